-- Load, before the swap: a canonical table that does not exist yet is created empty,
-- shaped like its staging table (DDL cannot run inside the swap's transaction).
CREATE TABLE IF NOT EXISTS target AS SELECT * FROM incoming WHERE FALSE
