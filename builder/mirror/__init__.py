"""The SQLite mirror's format, shared by sync and the API."""
