-- Step 2 of the shared resolution: one row per contact_id, from the profile's contacts
-- file (stage_contacts.sql), the same in every profile (CONTRACT §1). Empty strings become
-- NULL (as everywhere); the latest updated_at that parses wins (same timestamp rules as
-- events.sql; a missing or unparseable one loses to any that parses), ties break on the
-- row's content (NULLs first). Rows without a contact_id cannot be referenced and are
-- left out. The winner's email and secondary email are stored normalised (CONTRACT §2:
-- trimmed, case-folded with the table bound as @casefold_from / @casefold_to; blank is
-- NULL), as the mirror holds them and as resolution compares them.
CREATE OR REPLACE TABLE proj_stage_contacts AS
WITH cleaned AS (
  SELECT
    NULLIF(contact_id, '') AS contact_id,
    NULLIF(email, '') AS email,
    NULLIF(first_name, '') AS first_name,
    NULLIF(last_name, '') AS last_name,
    NULLIF(lifecycle_stage, '') AS lifecycle_stage,
    NULLIF(client_type_code, '') AS client_type_code,
    NULLIF(updated_at, '') AS updated_at,
    NULLIF(secondary_email, '') AS secondary_email,
    IF(
      REGEXP_CONTAINS(TRIM(updated_at, ' \t\n\r'), r'^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?)?$'),
      SAFE_CAST(REGEXP_REPLACE(UPPER(TRIM(updated_at, ' \t\n\r')), r'(\.\d{6})\d+', r'\1') AS TIMESTAMP),
      NULL
    ) AS updated_cast
  FROM proj_stage_contacts_raw
),
latest AS (
  SELECT *
  FROM cleaned
  WHERE contact_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY contact_id
    ORDER BY
      IF(EXTRACT(YEAR FROM updated_cast AT TIME ZONE 'UTC') BETWEEN 1 AND 9999, updated_cast, NULL) DESC,
      email, first_name, last_name, lifecycle_stage, client_type_code, updated_at, secondary_email
  ) = 1
)
SELECT
  contact_id,
  NULLIF(TRANSLATE(TRIM(email, ' \t\n\r'), @casefold_from, @casefold_to), '') AS email,
  first_name,
  last_name,
  lifecycle_stage,
  client_type_code,
  updated_at,
  NULLIF(TRANSLATE(TRIM(secondary_email, ' \t\n\r'), @casefold_from, @casefold_to), '') AS secondary_email
FROM latest
