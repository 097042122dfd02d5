-- Whether a contact exists (timeline answers 404 for an unknown contact).
-- Only run when a timeline page comes back empty.
--
-- Parameters:
--   :contact_id  the contact
SELECT 1 AS found
FROM contacts
WHERE contact_id = :contact_id
