-- contact-events: source
-- source_system: stripe_invoice
-- event_type: invoice
--
-- Stripe invoices: `canonical_objects` rows of the kind `invoice` (CONTRACT §7).
-- Identity: the email $.customer_email. Payload values keep their JSON types (an
-- amount_due of 12500 stays a number): each is the JSON text of the value
-- (TO_JSON_STRING(JSON_QUERY(...))), an empty string or a missing key reads null.
SELECT
  NULLIF(JSON_VALUE(payload, '$.invoice_id'), '') AS source_record_id,
  NULLIF(JSON_VALUE(payload, '$.status'), '') AS event_name,
  'stripe' AS event_source,
  NULLIF(TRIM(JSON_VALUE(payload, '$.event_time'), ' \t\n\r'), '') AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  JSON_VALUE(payload, '$.customer_email') AS source_email,
  CONCAT(
    '{"amount_due":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.amount_due')), '""'), 'null'),
    ',"currency":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.currency')), '""'), 'null'),
    ',"description":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.description')), '""'), 'null'),
    ',"invoice_number":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.invoice_number')), '""'), 'null'),
    '}'
  ) AS payload
FROM canonical_objects
WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'invoice'
