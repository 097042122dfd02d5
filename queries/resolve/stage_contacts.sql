-- Step 0: the profile's contacts file, as it reads them (CONTRACT §1 columns).
-- `source_rows` stands for the file's own SELECT (builder/engine/sql.py render_source).
CREATE OR REPLACE TABLE proj_stage_contacts_raw AS
SELECT
  s.contact_id,
  s.email,
  s.first_name,
  s.last_name,
  s.lifecycle_stage,
  s.client_type_code,
  s.updated_at
FROM source_rows AS s
