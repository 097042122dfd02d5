-- The pages (/ui/): find a client by id, email or name. Every contact, with whether the
-- text is its id (exactly, or part of it, A-Z without case) and whether the normalised
-- email text is (part of) its email, normalised as the API's answers normalise it
-- (README "Emails"; as needs_form_items.sql writes it). The page keeps the rows that
-- match by id, by email or by name: names are compared in Python with Unicode case
-- folding, which SQLite's lower() and LIKE (A-Z only) cannot do ("østergaard" must find
-- "Østergaard").
--
-- Result: contact_id, email, first_name, last_name, lifecycle_stage, id_exact, id_part,
-- email_exact, email_part; ordered by last name, first name, id.
--
-- Parameters:
--   :text   the text as typed, trimmed
--   :like   the text as a LIKE pattern: '%' || text || '%', with %, _ and \ escaped
--   :email  the text normalised as an email ('' when it is too short to search emails)
--   :limit  at most this many rows (the row cap)
SELECT
  c.contact_id,
  NULLIF(lower(trim(c.email, char(32, 9, 10, 13))), '') AS email,
  c.first_name,
  c.last_name,
  c.lifecycle_stage,
  c.contact_id = :text AS id_exact,
  c.contact_id LIKE :like ESCAPE '\' AS id_part,
  :email <> '' AND lower(trim(c.email, char(32, 9, 10, 13))) = :email AS email_exact,
  :email <> '' AND instr(lower(trim(c.email, char(32, 9, 10, 13))), :email) > 0 AS email_part
FROM contacts AS c
ORDER BY c.last_name, c.first_name, c.contact_id
LIMIT :limit
