-- Incremental build: upsert the re-resolved records into the ledger and the rejects,
-- keyed on (source_system, source_record_id), overwriting on conflict. A record that
-- moved between ledger and rejects is removed from the side it left, and a record deleted
-- upstream from both. Rejects without a record id have no key: they are replaced whole.

MERGE proj_contact_events AS t
USING (
  SELECT
    contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
    source_system, source_record_id, payload
  FROM proj_stage_resolved
  WHERE reason IS NULL OR reason = 'orphan'
) AS s
ON t.source_system = s.source_system AND t.source_record_id = s.source_record_id
WHEN MATCHED THEN UPDATE SET
  contact_id = s.contact_id,
  contact_email = s.contact_email,
  event_type = s.event_type,
  event_name = s.event_name,
  event_source = s.event_source,
  event_timestamp = s.event_timestamp,
  payload = s.payload
WHEN NOT MATCHED THEN INSERT (
  contact_id, contact_email, event_type, event_name, event_source, event_timestamp,
  source_system, source_record_id, payload
) VALUES (
  s.contact_id, s.contact_email, s.event_type, s.event_name, s.event_source, s.event_timestamp,
  s.source_system, s.source_record_id, s.payload
);

DELETE FROM proj_contact_events AS t
WHERE EXISTS (
  SELECT 1
  FROM proj_stage_resolved AS r
  WHERE r.source_system = t.source_system
    AND r.source_record_id = t.source_record_id
    AND r.reason IS NOT NULL
    AND r.reason != 'orphan'
);

-- Records deleted upstream (resolve/changed.sql): changed, and no row left to resolve.
DELETE FROM proj_contact_events AS t
WHERE EXISTS (
  SELECT 1
  FROM proj_stage_changed AS c
  WHERE c.source_system = t.source_system AND c.source_record_id = t.source_record_id
)
AND NOT EXISTS (
  SELECT 1
  FROM proj_stage_resolved AS r
  WHERE r.source_system = t.source_system AND r.source_record_id = t.source_record_id
);

DELETE FROM proj_contact_events_rejects AS t
WHERE EXISTS (
  SELECT 1
  FROM proj_stage_changed AS c
  WHERE c.source_system = t.source_system AND c.source_record_id = t.source_record_id
)
AND NOT EXISTS (
  SELECT 1
  FROM proj_stage_resolved AS r
  WHERE r.source_system = t.source_system AND r.source_record_id = t.source_record_id
);

MERGE proj_contact_events_rejects AS t
USING (
  SELECT
    source_system,
    source_record_id,
    severity,
    reason,
    detail
  FROM proj_stage_resolved
  WHERE reason IS NOT NULL AND source_record_id IS NOT NULL
) AS s
ON t.source_system = s.source_system AND t.source_record_id = s.source_record_id
WHEN MATCHED THEN UPDATE SET
  severity = s.severity,
  reason = s.reason,
  detail = s.detail
WHEN NOT MATCHED THEN INSERT (source_system, source_record_id, severity, reason, detail)
VALUES (s.source_system, s.source_record_id, s.severity, s.reason, s.detail);

DELETE FROM proj_contact_events_rejects AS t
WHERE t.source_record_id IS NULL
  OR EXISTS (
    SELECT 1
    FROM proj_stage_resolved AS r
    WHERE r.source_system = t.source_system
      AND r.source_record_id = t.source_record_id
      AND r.reason IS NULL
  );

INSERT INTO proj_contact_events_rejects (source_system, source_record_id, severity, reason, detail)
SELECT source_system, source_record_id, severity, reason, detail
FROM proj_stage_resolved
WHERE source_record_id IS NULL;

-- Dropped first, as in full.sql: BigQuery does not replace a table clustered otherwise.
DROP TABLE IF EXISTS proj_contacts;

CREATE TABLE proj_contacts
CLUSTER BY contact_id
AS
SELECT * FROM proj_stage_contacts;

-- What changed, for `sync --incremental`: read as tables (list_rows / Storage Read).
CREATE OR REPLACE TABLE proj_stage_delta_ledger AS
SELECT l.*
FROM proj_contact_events AS l
JOIN proj_stage_changed AS c
  ON c.source_system = l.source_system AND c.source_record_id = l.source_record_id;

CREATE OR REPLACE TABLE proj_stage_delta_rejects AS
SELECT r.*
FROM proj_contact_events_rejects AS r
WHERE r.source_record_id IS NULL
  OR EXISTS (
    SELECT 1
    FROM proj_stage_changed AS c
    WHERE c.source_system = r.source_system AND c.source_record_id = r.source_record_id
  );
