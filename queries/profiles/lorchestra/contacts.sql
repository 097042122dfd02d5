-- contact-events: contacts
-- table: canonical_objects (idem_key, source_system, connection_name, object_type,
--   canonical_schema, canonical_format, payload JSON, created_at TIMESTAMP)
--
-- Contacts of the lorchestra layout (CONTRACT §7): `canonical_objects` rows of the kind
-- `contact` (any version of iglu:org.canonical/contact/jsonschema/...), their JSON
-- payload read into the columns of CONTRACT §1, in either payload shape: where two paths
-- are given, the first that has a value is used, per row (an empty string or a missing
-- key, or an object, has none; a timestamp of only spaces has none either). Flat
-- payloads are lorchestra's own ($.contact_id, $.email, ...), nested ones canonizer's
-- ($.id, $.telecom.email, $.name.given, $.meta.updatedAt, ...). Dedupe (latest
-- updated_at) and the empty-string rule happen in queries/resolve/contacts.sql, as for
-- every profile.
SELECT
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.contact_id'), ''),
    NULLIF(JSON_VALUE(payload, '$.id'), '')
  ) AS contact_id,
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.email'), ''),
    NULLIF(JSON_VALUE(payload, '$.telecom.email'), '')
  ) AS email,
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.telecom.emailSecondary'), ''),
    NULLIF(JSON_VALUE(payload, '$.email_secondary'), '')
  ) AS secondary_email,
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.first_name'), ''),
    NULLIF(JSON_VALUE(payload, '$.name.given'), '')
  ) AS first_name,
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.last_name'), ''),
    NULLIF(JSON_VALUE(payload, '$.name.family'), '')
  ) AS last_name,
  COALESCE(
    NULLIF(JSON_VALUE(payload, '$.lifecycleStage'), ''),
    NULLIF(JSON_VALUE(payload, '$.lifecycle_stage'), '')
  ) AS lifecycle_stage,
  JSON_VALUE(payload, '$.client_type_code') AS client_type_code,
  COALESCE(
    NULLIF(TRIM(JSON_VALUE(payload, '$.updated_at'), ' \t\n\r'), ''),
    NULLIF(TRIM(JSON_VALUE(payload, '$.meta.updatedAt'), ' \t\n\r'), '')
  ) AS updated_at
FROM canonical_objects
WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'contact'
