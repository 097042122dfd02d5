-- Whether a table of this name exists in the warehouse file.
SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $table
