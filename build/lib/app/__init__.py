"""contact-events read API: FastAPI over the SQLite mirror (CONTRACT §5)."""
