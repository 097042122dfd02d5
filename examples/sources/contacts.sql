-- contact-events: contacts
--
-- The practice's client list, in the columns of the contacts table (CONTRACT §1), and
-- the optional secondary email (a client's work address: messages from it resolve to
-- the client too). Duplicates are fine: the row with the latest updated_at wins.
SELECT
  client_ref AS contact_id,
  email_address AS email,
  given_name AS first_name,
  family_name AS last_name,
  status AS lifecycle_stage,
  CAST(NULL AS STRING) AS client_type_code,
  modified AS updated_at,
  work_email AS secondary_email
FROM clients
