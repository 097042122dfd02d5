-- The build report's payload shapes: the profile's `shapes` file (`source_rows` stands for
-- its SELECT; builder/engine/sql.py render_sources), rows per kind and shape of its id.
SELECT s.kind, s.field, s.shape, s.row_count
FROM source_rows AS s
ORDER BY s.kind, s.shape
