-- Step 1 of the shared resolution: every staged source row (stage_sources.sql), parsed.
--   event_timestamp  the candidate timestamp by the grammar (README "Timestamps"; digits
--                    beyond microseconds cut off before the cast, t/z upper-cased),
--                    as a UTC instant; NULL when missing, unparseable, or outside the
--                    years 0001-9999 once in UTC (BigQuery's TIMESTAMP range)
--   created_at_ts    created_at by the same rules; orders duplicates
--   email_norm       the identity email, normalised (CONTRACT §2, README "Emails":
--                    trimmed, each character replaced by its simple case folding; the
--                    table is bound as @casefold_from / @casefold_to); NULL when empty
CREATE OR REPLACE TABLE proj_stage_events AS
WITH cast_ AS (
  SELECT
    staged.*,
    IF(
      REGEXP_CONTAINS(timestamp_raw, r'^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?)?$'),
      SAFE_CAST(REGEXP_REPLACE(UPPER(timestamp_raw), r'(\.\d{6})\d+', r'\1') AS TIMESTAMP),
      NULL
    ) AS event_ts_cast,
    IF(
      REGEXP_CONTAINS(created_at_raw, r'^\d{4}-\d{2}-\d{2}([Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?)?$'),
      SAFE_CAST(REGEXP_REPLACE(UPPER(created_at_raw), r'(\.\d{6})\d+', r'\1') AS TIMESTAMP),
      NULL
    ) AS created_ts_cast
  FROM proj_stage_sources AS staged
)
SELECT
  * EXCEPT (event_ts_cast, created_ts_cast),
  IF(EXTRACT(YEAR FROM event_ts_cast AT TIME ZONE 'UTC') BETWEEN 1 AND 9999, event_ts_cast, NULL)
    AS event_timestamp,
  IF(EXTRACT(YEAR FROM created_ts_cast AT TIME ZONE 'UTC') BETWEEN 1 AND 9999, created_ts_cast, NULL)
    AS created_at_ts,
  NULLIF(TRANSLATE(TRIM(source_email, ' \t\n\r'), @casefold_from, @casefold_to), '') AS email_norm
FROM cast_
