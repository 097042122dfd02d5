-- The names of every table in the warehouse file.
SELECT table_name FROM information_schema.tables ORDER BY table_name
