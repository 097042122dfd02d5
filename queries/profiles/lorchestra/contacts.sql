-- contact-events: contacts
-- table: canonical_objects (idem_key, source_system, connection_name, object_type,
--   canonical_schema, canonical_format, payload JSON, created_at TIMESTAMP)
--
-- Contacts of the lorchestra layout (CONTRACT §7): `canonical_objects` rows of the kind
-- `contact` (any version of iglu:org.canonical/contact/jsonschema/...), their JSON
-- payload read into the columns of CONTRACT §1. Dedupe (latest updated_at) and the
-- empty-string rule happen in queries/resolve/contacts.sql, as for every profile.
SELECT
  JSON_VALUE(payload, '$.contact_id') AS contact_id,
  JSON_VALUE(payload, '$.email') AS email,
  JSON_VALUE(payload, '$.first_name') AS first_name,
  JSON_VALUE(payload, '$.last_name') AS last_name,
  JSON_VALUE(payload, '$.lifecycleStage') AS lifecycle_stage,
  JSON_VALUE(payload, '$.client_type_code') AS client_type_code,
  JSON_VALUE(payload, '$.updated_at') AS updated_at
FROM canonical_objects
WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'contact'
