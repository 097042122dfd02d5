-- Step 4 of the shared resolution: one row per logical record, with its reason.
--   dedupe:   one row per (source_system, source_record_id): latest created_at wins,
--             ties break on the row's content; rows with no id are never collapsed
--   resolve:  contact_id (must exist), else the email among the contacts' emails and
--             secondary emails (exactly one contact); an orphan's
--             detail is the source's orphan_detail when it says why it has no identity
--   classify: the first reason that applies, in the contract's priority order;
--             reason NULL = a clean ledger row, 'orphan' = kept in the ledger with a
--             warning, any other reason = a rejected row (severity 'error')
CREATE OR REPLACE TABLE proj_stage_resolved AS
WITH candidates AS (
  SELECT e.*
  FROM proj_stage_events AS e
  WHERE e.source_record_id IS NULL
  UNION ALL
  SELECT e.*
  FROM proj_stage_events AS e
  JOIN proj_stage_changed AS c
    ON c.source_system = e.source_system AND c.source_record_id = e.source_record_id
),
deduped AS (
  SELECT *
  FROM candidates
  WHERE source_record_id IS NULL
  UNION ALL
  SELECT *
  FROM candidates
  WHERE source_record_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY source_system, source_record_id
    ORDER BY
      created_at_ts DESC,
      event_name, event_source, timestamp_raw, source_contact_id, email_norm, payload, created_at_raw,
      orphan_detail
  ) = 1
),
contact_emails AS (
  -- Every address of every contact (its email and its secondary email, both stored
  -- normalised by contacts.sql), once per contact: how many contacts an email names.
  SELECT
    email_norm,
    COUNT(*) AS matches,
    MIN(contact_id) AS contact_id,
    STRING_AGG(contact_id, ', ' ORDER BY contact_id) AS contact_ids
  FROM (
    SELECT DISTINCT contact_id, email_norm
    FROM (
      SELECT contact_id, email AS email_norm FROM proj_stage_contacts
      UNION ALL
      SELECT contact_id, secondary_email AS email_norm FROM proj_stage_contacts
    ) AS addresses
    WHERE email_norm IS NOT NULL
  ) AS contact_addresses
  GROUP BY email_norm
),
joined AS (
  SELECT
    d.*,
    c.contact_id AS known_contact_id,
    c.email AS known_contact_email,
    e.matches AS email_matches,
    e.contact_id AS email_contact_id,
    e.contact_ids AS email_contact_ids
  FROM deduped AS d
  LEFT JOIN proj_stage_contacts AS c
    ON c.contact_id = d.source_contact_id
  LEFT JOIN contact_emails AS e
    ON d.source_contact_id IS NULL AND e.email_norm = d.email_norm
),
classified AS (
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
      WHEN source_record_id IS NULL
        THEN CONCAT('no record id; created_at=', COALESCE(created_at_raw, 'null'))
      WHEN timestamp_raw IS NULL THEN 'no event timestamp'
      WHEN event_timestamp IS NULL THEN CONCAT('unparseable timestamp: ', timestamp_raw)
      WHEN source_contact_id IS NOT NULL AND known_contact_id IS NULL
        THEN CONCAT('contact_id ', source_contact_id, ' is not in contacts')
      WHEN source_contact_id IS NULL AND email_matches > 1
        THEN CONCAT('email matches ', CAST(email_matches AS STRING), ' contacts: ', email_contact_ids)
      WHEN source_contact_id IS NULL AND email_norm IS NULL
        THEN COALESCE(orphan_detail, 'no contact_id and no email')
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
  FROM joined
)
SELECT
  classified.*,
  CASE WHEN reason = 'orphan' THEN 'warning' WHEN reason IS NOT NULL THEN 'error' END
    AS severity
FROM classified
