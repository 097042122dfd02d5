-- Load, first batch: a staging table `incoming` (<table>__incoming) shaped like the
-- registered Arrow batch `batch`. Written outside a transaction, so DuckDB spills it to
-- the file as it grows (rows written inside one are held in memory until commit).
CREATE OR REPLACE TABLE incoming AS SELECT * FROM batch
