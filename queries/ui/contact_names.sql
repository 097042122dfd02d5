-- The pages (/ui/): every contact's id and name, read once per mirror build and kept, so
-- finding a client by name is a scan of names in Python with Unicode case folding, which
-- SQLite's lower() and LIKE (A-Z only) cannot do ("østergaard" must find "Østergaard").
--
-- Result: contact_id, first_name, last_name.
--
-- No parameters.
SELECT contact_id, first_name, last_name
FROM contacts
