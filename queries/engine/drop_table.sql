-- Cleanup: drop a table that may not exist (a load's staging table).
DROP TABLE IF EXISTS target
