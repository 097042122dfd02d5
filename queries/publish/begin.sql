-- A build starts by removing the row that names the finished build (publish/build_meta.sql
-- writes it again as the last step). The publish steps replace several tables one after
-- another and no engine here can make that one transaction (BigQuery has no DDL in
-- transactions), so a build that fails or is killed half-way leaves no build row:
-- `sync` then refuses the half-published tables and the mirror keeps its last good build,
-- and the next incremental build, having nothing to apply changes to, runs a full one.
DROP TABLE IF EXISTS proj_contact_events_build
