-- A new mirror file is written with no journal and no fsync per transaction: it is a
-- private temp file until the swap, thrown away on any failure, and fsync'ed once before
-- it is renamed into place (builder/stages/sync.py).
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
