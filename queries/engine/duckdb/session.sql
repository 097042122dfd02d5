-- Every DuckDB connection: offset-less timestamps are read in the session time zone, so
-- make that UTC (the contract reads them as UTC).
SET TimeZone = 'UTC'
