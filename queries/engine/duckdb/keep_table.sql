-- Keep a build's table under another name for the next build (the staged rows: see
-- builder/stages/build.py, "remember"): a rename, no copy of the rows.
DROP TABLE IF EXISTS target;
ALTER TABLE source RENAME TO target
