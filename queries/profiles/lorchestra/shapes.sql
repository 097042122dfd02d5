-- contact-events: shapes
--
-- For the build report: which payload shape a practice's canonical_objects hold (CONTRACT
-- §7). For each kind whose id is written two ways, the rows read through each shape of
-- it: `flat` (lorchestra's own projection reads it: $.contact_id, $.session_id, a
-- refund's payment reference $.payment_intent_id), `nested` (canonizer's transforms write
-- it: $.id, $.id, $.payment_id) or `neither` (no value at either path: a contact nobody
-- can reference, a session without an id, a refund that names no payment). The other
-- kinds have one id path in both shapes; their rows without one are missing_record_id
-- rejects.
WITH objects AS (
  SELECT
    REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$') AS kind,
    payload
  FROM canonical_objects
),
ids AS (
  SELECT
    kind,
    CASE kind
      WHEN 'contact' THEN 'contact_id'
      WHEN 'clinical_session' THEN 'session_id'
      ELSE 'payment'
    END AS field,
    CASE kind
      WHEN 'contact' THEN NULLIF(JSON_VALUE(payload, '$.contact_id'), '')
      WHEN 'clinical_session' THEN NULLIF(JSON_VALUE(payload, '$.session_id'), '')
      ELSE NULLIF(JSON_VALUE(payload, '$.payment_intent_id'), '')
    END AS flat_id,
    CASE kind
      WHEN 'refund' THEN NULLIF(JSON_VALUE(payload, '$.payment_id'), '')
      ELSE NULLIF(JSON_VALUE(payload, '$.id'), '')
    END AS nested_id
  FROM objects
  WHERE kind IN ('contact', 'clinical_session', 'refund')
)
SELECT
  kind,
  field,
  CASE
    WHEN flat_id IS NOT NULL THEN 'flat'
    WHEN nested_id IS NOT NULL THEN 'nested'
    ELSE 'neither'
  END AS shape,
  COUNT(*) AS row_count
FROM ids
GROUP BY 1, 2, 3
