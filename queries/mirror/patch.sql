-- `sync --incremental`: apply one incremental build to the live mirror, in one
-- transaction (readers see the mirror before or after, never between).
-- The temp tables delta_ledger, delta_rejects, changed and new_contacts were filled
-- from the warehouse (proj_stage_delta_ledger, proj_stage_delta_rejects,
-- proj_stage_changed, proj_contacts) just before this script runs.

INSERT INTO contact_events (
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
)
SELECT
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
FROM temp.delta_ledger
WHERE true
ON CONFLICT (source_system, source_record_id) DO UPDATE SET
  contact_id = excluded.contact_id,
  contact_email = excluded.contact_email,
  event_type = excluded.event_type,
  event_name = excluded.event_name,
  event_source = excluded.event_source,
  event_timestamp = excluded.event_timestamp,
  payload = excluded.payload;

-- Records that left the ledger (they are rejects now).
DELETE FROM contact_events
WHERE (source_system, source_record_id) IN (
  SELECT source_system, source_record_id FROM temp.changed
  EXCEPT
  SELECT source_system, source_record_id FROM temp.delta_ledger
);

INSERT INTO contact_events_rejects (source_system, source_record_id, severity, reason, detail)
SELECT source_system, source_record_id, severity, reason, detail
FROM temp.delta_rejects
WHERE source_record_id IS NOT NULL
ON CONFLICT (source_system, source_record_id) WHERE source_record_id IS NOT NULL DO UPDATE SET
  severity = excluded.severity,
  reason = excluded.reason,
  detail = excluded.detail;

-- Records that are no longer rejected, and the id-less rejects (replaced as a whole).
DELETE FROM contact_events_rejects
WHERE source_record_id IS NULL
  OR (source_system, source_record_id) IN (
    SELECT source_system, source_record_id FROM temp.changed
    EXCEPT
    SELECT source_system, source_record_id FROM temp.delta_rejects
  );

INSERT INTO contact_events_rejects (source_system, source_record_id, severity, reason, detail)
SELECT source_system, source_record_id, severity, reason, detail
FROM temp.delta_rejects
WHERE source_record_id IS NULL;

DELETE FROM contacts;

INSERT INTO contacts SELECT * FROM temp.new_contacts;
