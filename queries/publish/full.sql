-- Full rebuild: replace the ledger, the rejects and the contacts outright.
--
-- The ledger is partitioned by month: one BigQuery job may change at most 4,000
-- partitions, which daily partitions pass with 11 years of event days (a long-running
-- practice, or mistyped years), while months stay under 2,400 whatever the years
-- (BigQuery keeps 1960-2159 in partitions of their own). No statement here ends in ORDER
-- BY: BigQuery refuses to write an ordered result into a partitioned or clustered table,
-- and a table keeps no order. CLUSTER BY says how rows are stored: on BigQuery, blocks
-- sorted by those columns; on DuckDB, the order the rows are written in (builder/engine/sql.py),
-- which keeps a contact's events together in the mirror. Each table is dropped first:
-- BigQuery does not replace a table whose partitioning or clustering differs (a dataset
-- built by an earlier version), and a failed build has removed the build row already.

DROP TABLE IF EXISTS proj_contact_events;

CREATE TABLE proj_contact_events
PARTITION BY TIMESTAMP_TRUNC(event_timestamp, MONTH)
CLUSTER BY contact_id, event_type
AS
SELECT
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
FROM proj_stage_resolved
WHERE reason IS NULL OR reason = 'orphan';

DROP TABLE IF EXISTS proj_contact_events_rejects;

CREATE TABLE proj_contact_events_rejects
CLUSTER BY source_system, source_record_id
AS
SELECT
  source_system,
  source_record_id,
  severity,
  reason,
  detail
FROM proj_stage_resolved
WHERE reason IS NOT NULL;

DROP TABLE IF EXISTS proj_contacts;

CREATE TABLE proj_contacts
CLUSTER BY contact_id
AS
SELECT * FROM proj_stage_contacts;
