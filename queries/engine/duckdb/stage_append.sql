-- Load, every further batch of the same table.
INSERT INTO incoming SELECT * FROM batch
