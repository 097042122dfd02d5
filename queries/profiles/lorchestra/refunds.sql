-- contact-events: source
-- source_system: stripe_refund
-- event_type: refund
--
-- Stripe refunds: `canonical_objects` rows of the kind `refund` (CONTRACT §7), in either
-- payload shape, per row (the first path that has a value; an empty string or a missing
-- key has none): lorchestra's flat one names the payment $.payment_intent_id and the time
-- $.event_time, canonizer's $.payment_id and $.meta.created_at.
-- Identity: the payment whose $.payment_id is the refund's payment reference (one row
-- per payment_id: the latest created_at, ties by the smaller customer_id), then as a
-- payment: the email of its customer (payments.sql). When the chain breaks the refund
-- has no email: an orphan, and orphan_detail names the broken link.
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
    JSON_VALUE(payload, '$.payment_id') AS payment_id,
    NULLIF(JSON_VALUE(payload, '$.customer_id'), '') AS customer_id
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'payment'
    AND NULLIF(JSON_VALUE(payload, '$.payment_id'), '') IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY JSON_VALUE(payload, '$.payment_id')
    ORDER BY created_at DESC, NULLIF(JSON_VALUE(payload, '$.customer_id'), '')
  ) = 1
),
refunds AS (
  -- Every field of the ledger row, read here from the row's own payload (built before the
  -- joins, from the unqualified `payload`: see payments.sql).
  SELECT
    NULLIF(JSON_VALUE(payload, '$.refund_id'), '') AS refund_id,
    COALESCE(
      NULLIF(JSON_VALUE(payload, '$.payment_intent_id'), ''),
      NULLIF(JSON_VALUE(payload, '$.payment_id'), '')
    ) AS payment_ref,
    NULLIF(JSON_VALUE(payload, '$.status'), '') AS status,
    COALESCE(
      NULLIF(TRIM(JSON_VALUE(payload, '$.event_time'), ' \t\n\r'), ''),
      NULLIF(TRIM(JSON_VALUE(payload, '$.meta.created_at'), ' \t\n\r'), '')
    ) AS event_time,
    FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', created_at, 'UTC') AS created_at_raw,
    CONCAT(
      '{"amount":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.amount')), '""'), 'null'),
      ',"currency":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.currency')), '""'), 'null'),
      ',"reason":', COALESCE(NULLIF(TO_JSON_STRING(JSON_QUERY(payload, '$.reason')), '""'), 'null'),
      '}'
    ) AS ledger_payload
  FROM canonical_objects
  WHERE REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') = 'refund'
)
SELECT
  r.refund_id AS source_record_id,
  r.status AS event_name,
  'stripe' AS event_source,
  r.event_time AS timestamp_raw,
  r.created_at_raw,
  CAST(NULL AS STRING) AS source_contact_id,
  c.email AS source_email,
  CASE
    WHEN r.payment_ref IS NULL THEN 'refund -> payment: the refund has no payment_intent_id or payment_id'
    WHEN p.payment_id IS NULL THEN CONCAT('refund -> payment: no payment ', r.payment_ref)
    WHEN p.customer_id IS NULL
      THEN CONCAT('refund -> payment ', r.payment_ref, ' -> customer: the payment has no customer_id')
    WHEN c.customer_id IS NULL
      THEN CONCAT('refund -> payment ', r.payment_ref, ' -> customer: no customer ', p.customer_id)
    WHEN c.email IS NULL
      THEN CONCAT('refund -> payment ', r.payment_ref, ' -> customer: customer ', p.customer_id, ' has no email')
  END AS orphan_detail,
  r.ledger_payload AS payload
FROM refunds AS r
LEFT JOIN payments AS p ON p.payment_id = r.payment_ref
LEFT JOIN customers AS c ON c.customer_id = p.customer_id
