"""The text of the SQL files under `queries/`, as written (no sqlglot: the API, the jobs
store and the mirror's checks read their SQLite queries without loading the transpiler;
builder/engine/sql.py renders the warehouse's for an engine)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"  # installed beside builder/


@cache
def read_query(name: str) -> str:
    """Text of `queries/<name>.sql` (name may contain a sub-folder, e.g. `api/timeline`)."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
