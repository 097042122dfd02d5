-- contact-events: source
-- source_system: stripe_payment
-- event_type: payment
--
-- Stripe payments: `canonical_objects` rows of the kind `payment` (CONTRACT §7).
-- Identity: the email of the `customer` whose $.customer_id is the payment's (one row per
-- customer_id: the latest created_at, ties by the smaller email). When the chain breaks
-- (no customer_id, no such customer, a customer without email) the payment has no email:
-- an orphan, and orphan_detail names the broken link.
WITH customers AS (
  SELECT
    JSON_VALUE(payload, '$.customer_id') AS customer_id,
    NULLIF(TRIM(JSON_VALUE(payload, '$.email'), ' \t\n\r'), '') AS email
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'customer'
    AND NULLIF(JSON_VALUE(payload, '$.customer_id'), '') IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY JSON_VALUE(payload, '$.customer_id')
    ORDER BY created_at DESC, NULLIF(TRIM(JSON_VALUE(payload, '$.email'), ' \t\n\r'), '')
  ) = 1
),
payments AS (
  SELECT
    payload,
    created_at,
    NULLIF(JSON_VALUE(payload, '$.payment_id'), '') AS payment_id,
    NULLIF(JSON_VALUE(payload, '$.customer_id'), '') AS customer_id
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'payment'
)
SELECT
  p.payment_id AS source_record_id,
  NULLIF(JSON_VALUE(p.payload, '$.status'), '') AS event_name,
  'stripe' AS event_source,
  NULLIF(TRIM(JSON_VALUE(p.payload, '$.event_time'), ' \t\n\r'), '') AS timestamp_raw,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', p.created_at, 'UTC') AS created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  c.email AS source_email,
  CASE
    WHEN p.customer_id IS NULL THEN 'payment -> customer: the payment has no customer_id'
    WHEN c.customer_id IS NULL THEN CONCAT('payment -> customer: no customer ', p.customer_id)
    WHEN c.email IS NULL THEN CONCAT('payment -> customer: customer ', p.customer_id, ' has no email')
  END AS orphan_detail,
  CONCAT(
    '{"amount":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(p.payload, '$.amount')), '""'), 'null'),
    ',"currency":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(p.payload, '$.currency')), '""'), 'null'),
    ',"payment_method_type":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(p.payload, '$.payment_method_type')), '""'), 'null'),
    '}'
  ) AS payload
FROM payments AS p
LEFT JOIN customers AS c ON c.customer_id = p.customer_id
