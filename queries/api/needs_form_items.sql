-- GET /contacts/needs-form, the items of one page: the response item (JSON text) of each
-- row needs_form.sql returned, in the same order: the contact's item (views.sql) with
-- last_form_at, RFC 3339 UTC with `Z` (the mirror's one text form, its space made a
-- `T`), null for none.
--
-- Parameters:
--   :rows  the page's rows of needs_form.sql, in order, as a JSON array of
--          [contact_id, last_form_at] pairs
--
-- Plan: one contacts_id probe per row; nothing else is read.
SELECT
  json_set(
    c.item,
    '$.last_form_at', replace(NULLIF(json_extract(page.value, '$[1]'), ''), ' ', 'T') || 'Z'
  ) AS item
FROM json_each(:rows) AS page
JOIN contact_items AS c ON c.contact_id = json_extract(page.value, '$[0]')
ORDER BY page.key
