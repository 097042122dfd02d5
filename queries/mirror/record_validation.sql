-- The pre-swap validation's summary, on the build row this sync just added.
UPDATE ledger_builds
SET validation = :validation
WHERE build_id = :build_id
  AND rowid = (SELECT max(rowid) FROM ledger_builds);
