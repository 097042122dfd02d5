-- contact-events: inputs
--
-- For the build report: rows per canonical_schema of canonical_objects (the kinds this
-- profile reads, whatever their version, and every other kind, which it ignores), and
-- the rows of measurement_events.
SELECT
  COALESCE(canonical_schema, '(no canonical_schema)') AS input,
  COUNT(*) AS row_count,
  COALESCE(
    REGEXP_EXTRACT(canonical_schema, r'^iglu:org\.canonical/([^/]+)/jsonschema/[^/]+$')
      IN ('contact', 'clinical_session', 'email_jmap_lite', 'invoice', 'payment', 'refund', 'customer'),
    FALSE
  ) AS used
FROM canonical_objects
GROUP BY canonical_schema
UNION ALL
SELECT 'measurement_events', COUNT(*), TRUE
FROM measurement_events
