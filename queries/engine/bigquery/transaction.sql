-- The frame of the load swap's multi-statement transaction: swap.sql goes in between.
BEGIN TRANSACTION;
COMMIT TRANSACTION
