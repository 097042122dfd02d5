"""The SQL files agree with the contract's constants and render for every engine."""

from __future__ import annotations

import re

import pytest

from contact_events.builder.core.contract import ASCII_UPPER, TIMESTAMP_PATTERN, TRIM_CHARS
from contact_events.builder.core.queries import QUERIES_DIR
from contact_events.builder.engine import sql

# Every GoogleSQL file of the projection: the shared steps and every profile's sources.
PROJECTION = sorted(
    str(path.relative_to(QUERIES_DIR).with_suffix(""))
    for folder in ("resolve", "publish", "report", "profiles/*")
    for path in QUERIES_DIR.glob(f"{folder}/*.sql")
)


def test_every_timestamp_regex_in_the_projection_is_the_contract_grammar():
    found = 0
    for name in PROJECTION:
        for pattern in re.findall(r"\br'(\^[^']*)'", sql.read_query(name)):
            if r"\d{4}-" not in pattern:
                continue  # not a date: a session number, an Iglu URI
            assert pattern == TIMESTAMP_PATTERN, name
            found += 1
    assert found >= 3


def test_every_timestamp_cast_cuts_the_fraction_to_microseconds_first():
    """RFC 3339 allows any number of fractional digits; BigQuery's cast takes 6 at most."""
    casts = 0
    for name in PROJECTION:
        text = sql.read_query(name)
        for inner in re.findall(r"SAFE_CAST\((.*) AS TIMESTAMP\)", text):
            assert inner.startswith("REGEXP_REPLACE(UPPER("), f"{name}: {inner}"
            assert inner.endswith(r", r'(\.\d{6})\d+', r'\1')"), f"{name}: {inner}"
            casts += 1
    assert casts >= 3


def test_every_trim_in_the_projection_names_the_trim_characters():
    escaped = TRIM_CHARS.encode("unicode_escape").decode()
    for name in PROJECTION:
        for call in re.findall(r"TRIM\(([^()]*(?:\([^()]*\))?[^()]*)\)", sql.read_query(name)):
            assert call.endswith(f"'{escaped}'"), f"{name}: TRIM({call})"


@pytest.mark.parametrize("name", PROJECTION)
@pytest.mark.parametrize("dialect", ["duckdb", "bigquery"])
def test_projection_renders_without_comments(name, dialect):
    statements = sql.render(name, dialect, "proj", "ds" if dialect == "bigquery" else None)
    assert statements
    for statement in statements:
        assert "--" not in statement.sql and "/*" not in statement.sql


def test_every_email_comparison_uses_the_one_normalisation():
    """README "Emails": trimmed, then A-Z lower-cased and nothing else, on every engine
    (Unicode LOWER differs between DuckDB, BigQuery and Python: final sigma, dotted I)."""
    translations = 0
    for name in PROJECTION:
        text = sql.read_query(name)
        assert "LOWER(" not in text.upper().replace("_LOWER(", ""), name
        for args in re.findall(r"TRANSLATE\((.*?\)), '([A-Z]+)', '([a-z]+)'\)", text):
            assert args[1] == ASCII_UPPER and args[2] == ASCII_UPPER.lower(), name
            translations += 1
    assert translations >= 5
