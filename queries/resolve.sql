-- The shared resolution step, run after every queries/sources/*.sql file.
--   1. contacts: one row per contact_id (latest updated_at wins, ties on content)
--   2. dedupe:   one row per (source_system, source_record_id): latest created_at wins,
--                ties break on the row's content; rows with no id are never collapsed
--   3. parse:    timestamps by the strict grammar (README "Timestamps"), to UTC
--   4. resolve:  contact_id (must exist) else the email (exactly one contact)
--   5. classify: the first reason that applies, in the contract's priority order
-- Then the ledger (clean rows and orphans) and the rejects (everything else + orphans).

CREATE OR REPLACE TABLE proj_contacts AS
SELECT
  contact_id, email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
FROM contacts
WHERE NULLIF(contact_id, '') IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY contact_id
  ORDER BY
    IF(
      REGEXP_CONTAINS(TRIM(updated_at), r'^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$'),
      SAFE_CAST(TRIM(updated_at) AS TIMESTAMP),
      NULL
    ) DESC,
    email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
) = 1;

CREATE OR REPLACE TABLE proj_stage_resolved AS
WITH staged AS (
  SELECT * FROM proj_stage_measurement_events
  UNION ALL SELECT * FROM proj_stage_clinical_sessions
  UNION ALL SELECT * FROM proj_stage_email_events
  UNION ALL SELECT * FROM proj_stage_messages
  UNION ALL SELECT * FROM proj_stage_system_events
),
parsed AS (
  SELECT
    staged.*,
    IF(
      REGEXP_CONTAINS(timestamp_raw, r'^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$'),
      SAFE_CAST(timestamp_raw AS TIMESTAMP),
      NULL
    ) AS event_timestamp,
    IF(
      REGEXP_CONTAINS(created_at_raw, r'^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$'),
      SAFE_CAST(created_at_raw AS TIMESTAMP),
      NULL
    ) AS created_at_ts,
    NULLIF(LOWER(TRIM(source_email)), '') AS email_norm
  FROM staged
),
deduped AS (
  SELECT *
  FROM parsed
  WHERE source_record_id IS NULL
  UNION ALL
  SELECT *
  FROM parsed
  WHERE source_record_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY source_system, source_record_id
    ORDER BY
      created_at_ts DESC,
      event_name, event_source, timestamp_raw, source_contact_id, email_norm, payload, created_at_raw
  ) = 1
),
contact_emails AS (
  SELECT
    NULLIF(LOWER(TRIM(email)), '') AS email_norm,
    COUNT(*) AS matches,
    MIN(contact_id) AS contact_id,
    STRING_AGG(contact_id, ', ' ORDER BY contact_id) AS contact_ids
  FROM proj_contacts
  WHERE NULLIF(LOWER(TRIM(email)), '') IS NOT NULL
  GROUP BY 1
),
joined AS (
  SELECT
    d.*,
    c.contact_id AS known_contact_id,
    NULLIF(LOWER(TRIM(c.email)), '') AS known_contact_email,
    e.matches AS email_matches,
    e.contact_id AS email_contact_id,
    e.contact_ids AS email_contact_ids
  FROM deduped AS d
  LEFT JOIN proj_contacts AS c
    ON c.contact_id = d.source_contact_id
  LEFT JOIN contact_emails AS e
    ON d.source_contact_id IS NULL AND e.email_norm = d.email_norm
)
SELECT
  CASE
    WHEN source_record_id IS NULL THEN 'missing_record_id'
    WHEN timestamp_raw IS NULL THEN 'missing_timestamp'
    WHEN event_timestamp IS NULL THEN 'bad_timestamp'
    WHEN source_contact_id IS NOT NULL AND known_contact_id IS NULL THEN 'unknown_contact_id'
    WHEN source_contact_id IS NULL AND email_matches > 1 THEN 'ambiguous_email'
    WHEN source_contact_id IS NULL AND email_matches IS NULL THEN 'orphan'
  END AS reason,
  CASE
    WHEN source_record_id IS NULL THEN CONCAT('no record id; created_at=', COALESCE(created_at_raw, 'null'))
    WHEN timestamp_raw IS NULL THEN 'no event timestamp'
    WHEN event_timestamp IS NULL THEN CONCAT('unparseable timestamp: ', timestamp_raw)
    WHEN source_contact_id IS NOT NULL AND known_contact_id IS NULL
      THEN CONCAT('contact_id ', source_contact_id, ' is not in contacts')
    WHEN source_contact_id IS NULL AND email_matches > 1
      THEN CONCAT('email matches ', CAST(email_matches AS STRING), ' contacts: ', email_contact_ids)
    WHEN source_contact_id IS NULL AND email_norm IS NULL THEN 'no contact_id and no email'
    WHEN source_contact_id IS NULL AND email_matches IS NULL THEN 'email matches no contact'
  END AS detail,
  COALESCE(known_contact_id, IF(email_matches = 1, email_contact_id, NULL)) AS contact_id,
  COALESCE(email_norm, IF(known_contact_id IS NOT NULL, known_contact_email, NULL)) AS contact_email,
  event_type,
  event_name,
  event_source,
  event_timestamp,
  source_system,
  source_record_id,
  payload
FROM joined;

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
  IF(reason = 'orphan', 'warning', 'error') AS severity,
  reason,
  detail
FROM proj_stage_resolved
WHERE reason IS NOT NULL
ORDER BY source_system, source_record_id, reason;
