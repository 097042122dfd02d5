-- contact-events: contacts
-- table: contacts (contact_id, email, first_name, last_name, lifecycle_stage,
--   client_type_code, updated_at)
--
-- The contacts table of CONTRACT §1, as it is. Dedupe (latest updated_at) and the
-- empty-string rule happen in queries/resolve/contacts.sql, the same for every profile.
SELECT
  contact_id,
  email,
  first_name,
  last_name,
  lifecycle_stage,
  client_type_code,
  updated_at
FROM contacts
