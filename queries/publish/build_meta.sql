-- One row describing the build just made; sync copies it into ledger_builds.
-- previous_build_id: the build an incremental build was applied on top of (NULL for a
-- full build); `sync --incremental` only patches a mirror that holds exactly that build.
CREATE OR REPLACE TABLE proj_contact_events_build AS
SELECT
  @build_id AS build_id,
  CURRENT_TIMESTAMP() AS built_at,
  @warehouse AS warehouse,
  @mode AS mode,
  CAST(@previous_build_id AS STRING) AS previous_build_id,
  @report AS report
