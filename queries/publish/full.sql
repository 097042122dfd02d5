-- Full rebuild: replace the ledger, the rejects and the contacts outright.

CREATE OR REPLACE TABLE proj_contact_events
PARTITION BY DATE(event_timestamp)
CLUSTER BY contact_id, event_type
AS
SELECT
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
FROM proj_stage_resolved
WHERE reason IS NULL OR reason = 'orphan'
ORDER BY contact_id, event_timestamp, source_system, source_record_id;

CREATE OR REPLACE TABLE proj_contact_events_rejects AS
SELECT
  source_system,
  source_record_id,
  severity,
  reason,
  detail
FROM proj_stage_resolved
WHERE reason IS NOT NULL
ORDER BY source_system, source_record_id, reason;

CREATE OR REPLACE TABLE proj_contacts AS
SELECT * FROM proj_stage_contacts
ORDER BY contact_id;
