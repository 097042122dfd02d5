-- Load, the swap: one table's part, run for every canonical table inside one
-- multi-statement transaction (transaction.sql), so all are replaced or none is.
DELETE FROM target WHERE TRUE;
INSERT INTO target SELECT * FROM incoming
