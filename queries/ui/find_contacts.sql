-- The pages (/ui/): find a client by id, email or name. The contacts whose id holds the
-- text (A-Z without case), whose email holds the normalised email text (the mirror
-- stores emails normalised by the one email rule, CONTRACT §2; the page normalises the
-- text the same way), or whose id the page found by name (:by_name, from contact_names.sql); the exact
-- id first, then the exact email, then by name.
--
-- Result: contact_id, email, first_name, last_name, lifecycle_stage, id_exact,
-- email_exact.
--
-- Parameters:
--   :text     the text as typed, trimmed
--   :like     the text as a LIKE pattern: '%' || text || '%', with %, _ and \ escaped
--   :email    the text normalised as an email ('' when it is too short to search emails)
--   :by_name  a JSON array of the contact ids whose name matches
--   :limit    at most this many rows
SELECT
  c.contact_id,
  c.email,
  c.first_name,
  c.last_name,
  c.lifecycle_stage,
  c.contact_id = :text AS id_exact,
  :email <> '' AND c.email = :email AS email_exact
FROM contacts AS c
WHERE c.contact_id LIKE :like ESCAPE '\'
  OR (:email <> '' AND instr(c.email, :email) > 0)
  OR c.contact_id IN (SELECT value FROM json_each(:by_name))
ORDER BY id_exact DESC, email_exact DESC, c.last_name, c.first_name, c.contact_id
LIMIT :limit
