-- The build report's inputs: the profile's `inputs` file (`source_rows` stands for its
-- SELECT; builder/engine/sql.py render_source), rows per canonical input, read or ignored.
SELECT s.input, s.row_count, s.used
FROM source_rows AS s
ORDER BY s.used DESC, s.input
