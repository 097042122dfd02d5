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
  -- Every field of the ledger row, read here from the row's own payload. (The payload
  -- is built before the join, from the unqualified `payload`: the BigQuery emulator used
  -- in tests loses JSON_QUERY's JSON type on a table-qualified column.)
  SELECT
    NULLIF(JSON_VALUE(payload, '$.payment_id'), '') AS payment_id,
    NULLIF(JSON_VALUE(payload, '$.customer_id'), '') AS customer_id,
    NULLIF(JSON_VALUE(payload, '$.status'), '') AS status,
    NULLIF(TRIM(JSON_VALUE(payload, '$.event_time'), ' \t\n\r'), '') AS event_time,
    FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
    CONCAT(
      '{"amount":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.amount')), '""'), 'null'),
      ',"currency":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.currency')), '""'), 'null'),
      ',"payment_method_type":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.payment_method_type')), '""'), 'null'),
      '}'
    ) AS ledger_payload
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'payment'
)
SELECT
  p.payment_id AS source_record_id,
  p.status AS event_name,
  'stripe' AS event_source,
  p.event_time AS timestamp_raw,
  p.created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  c.email AS source_email,
  CASE
    WHEN p.customer_id IS NULL THEN 'payment -> customer: the payment has no customer_id'
    WHEN c.customer_id IS NULL THEN CONCAT('payment -> customer: no customer ', p.customer_id)
    WHEN c.email IS NULL THEN CONCAT('payment -> customer: customer ', p.customer_id, ' has no email')
  END AS orphan_detail,
  p.ledger_payload AS payload
FROM payments AS p
LEFT JOIN customers AS c ON c.customer_id = p.customer_id
