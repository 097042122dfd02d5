-- How many rows a table holds (`contact-events doctor`: the canonical tables found).
SELECT COUNT(*) AS n FROM target
