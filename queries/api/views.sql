-- The response items, each written once: `event_items.item`, a ledger row as the event
-- routes answer it (timeline, events, events_by_name), and `contact_items.item`, the
-- contact's own columns that every per-contact list starts with (needs-form, gone-quiet,
-- no-session add their own keys to it with json_set). A new ledger or contact column is
-- added to its item here and nowhere else among the API's queries.
--
-- TEMP views, created on each of the API's read-only connections when it opens
-- (app/pool/db.py): the mirror file is never written, and SQLite flattens a view into each
-- query, so an item is built for the rows returned only and the table's indexes serve
-- each query's WHERE as they would the table's.
--
-- No parameters.

-- event_items.item: every ledger column, event_timestamp as RFC 3339 UTC with `Z` (the mirror's
-- one text form, its space made a `T`), payload as the object it holds (anything else,
-- which sync never writes, as {"value": ...}; the first WHEN is the cheap test every
-- payload sync writes passes).
CREATE TEMP VIEW event_items AS
SELECT
  e.*,
  json_object(
    'contact_id', e.contact_id,
    'contact_email', e.contact_email,
    'event_type', e.event_type,
    'event_name', e.event_name,
    'event_source', e.event_source,
    'event_timestamp', replace(e.event_timestamp, ' ', 'T') || 'Z',
    'source_system', e.source_system,
    'source_record_id', e.source_record_id,
    'payload', CASE
      WHEN unicode(e.payload) = 123 AND json_valid(e.payload) THEN json(e.payload)  -- 123: '{'
      WHEN NOT json_valid(e.payload) THEN json_object('value', NULL)
      WHEN json_type(e.payload) = 'object' THEN json(e.payload)
      ELSE json_object('value', json(e.payload))
    END
  ) AS item
FROM main.contact_events AS e;

-- contact_items.item: contact_id, email, first_name, last_name. `email` follows the one
-- email rule (README "Emails"), as contact_email does: trimmed of spaces, tabs, LF and CR
-- (char 32, 9, 10, 13), ASCII letters lower-cased (SQLite's lower() folds A-Z only),
-- nothing else changed; blank is null.
CREATE TEMP VIEW contact_items AS
SELECT
  c.*,
  json_object(
    'contact_id', c.contact_id,
    'email', NULLIF(lower(trim(c.email, char(32, 9, 10, 13))), ''),
    'first_name', c.first_name,
    'last_name', c.last_name
  ) AS item
FROM main.contacts AS c;
