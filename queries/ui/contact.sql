-- The pages (/ui/contacts/{contact_id}): one contact's row, for the timeline's heading.
-- No row for an unknown contact (the page answers 404).
--
-- Parameters:
--   :contact_id  the contact
SELECT contact_id, email, first_name, last_name, lifecycle_stage, client_type_code
FROM contacts
WHERE contact_id = :contact_id
