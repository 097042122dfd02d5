"""POST /rebuild's jobs: a SQLite store beside the mirror, and their worker."""
