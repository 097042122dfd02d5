-- Step 2 of the shared resolution: one row per contact_id. The latest updated_at wins
-- (same timestamp grammar; unparseable or missing loses), ties break on the row's content.
-- Rows without a contact_id cannot be referenced and are left out.
CREATE OR REPLACE TABLE proj_stage_contacts AS
SELECT
  contact_id, email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
FROM contacts
WHERE NULLIF(contact_id, '') IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY contact_id
  ORDER BY
    IF(
      REGEXP_CONTAINS(TRIM(updated_at, ' \t\n\r'), r'^\d{4}-\d{2}-\d{2}([T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?$'),
      SAFE_CAST(TRIM(updated_at, ' \t\n\r') AS TIMESTAMP),
      NULL
    ) DESC,
    email, first_name, last_name, lifecycle_stage, client_type_code, updated_at
) = 1
