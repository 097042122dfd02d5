"""The SQL files agree with the contract's constants and render for every engine."""

from __future__ import annotations

import re

import pytest

from builder import sql
from builder.build import FINAL_STEPS, INCREMENTAL_STEPS, STEPS
from builder.contract import TIMESTAMP_PATTERN, TRIM_CHARS

PROJECTION = sorted({*STEPS, *INCREMENTAL_STEPS, *FINAL_STEPS, "report/build_report"})


def test_every_timestamp_regex_in_the_projection_is_the_contract_grammar():
    found = 0
    for name in PROJECTION:
        for pattern in re.findall(r"\br'(\^[^']*)'", sql.read_query(name)):
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
