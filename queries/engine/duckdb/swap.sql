-- Load, the swap: run for every table inside one transaction, so all the canonical tables
-- are replaced or none is. Renames only: the rows were written to `incoming` already.
DROP TABLE IF EXISTS target;
ALTER TABLE incoming RENAME TO target
