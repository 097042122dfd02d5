-- CONTACT_EVENTS_DUCKDB_MEMORY_LIMIT: DuckDB's memory budget (it spills to disk beyond it).
SET memory_limit = $memory_limit
