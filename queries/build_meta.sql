-- One row describing the build just made; sync copies it into ledger_builds.
CREATE OR REPLACE TABLE proj_contact_events_build AS
SELECT
  @build_id AS build_id,
  CURRENT_TIMESTAMP() AS built_at,
  @warehouse AS warehouse,
  @report AS report
