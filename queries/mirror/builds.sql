-- The mirror's build history, oldest first: carried into each new mirror file, and read
-- to decide full or incremental (builder/stages/strategy.py).
SELECT * FROM ledger_builds ORDER BY rowid;
