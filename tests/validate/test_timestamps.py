"""builder/validate/timestamps.py: the reference path's reading of a timestamp
(CONTRACT §2), alone and, on the contract's edge cases, against the real build."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import FLAT
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.validate.reference import (
    _reason,
    _row,
    reference_contacts,
    reference_source,
)
from contact_events.builder.validate.sources import reference_sources
from contact_events.builder.validate.timestamps import mirror_text, parse_instant

from .cases import CONTACTS, build, errors_of, form, run


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2024-03-01", "2024-03-01 00:00:00.000000"),
        ("2024-03-01T10:00:00", "2024-03-01 10:00:00.000000"),
        ("2024-03-01 10:00:00Z", "2024-03-01 10:00:00.000000"),
        ("2024-03-01T10:00:00.1+01:00", "2024-03-01 09:00:00.100000"),
        ("2024-03-01T00:30:00+14:00", "2024-02-29 10:30:00.000000"),
        ("2024-03-01T23:30:00-05:00", "2024-03-02 04:30:00.000000"),
        ("2024-12-31T23:59:59.999999-14:00", "2025-01-01 13:59:59.999999"),
        ("2024-03-01t10:00:00z", "2024-03-01 10:00:00.000000"),  # RFC 3339: t and z
        ("2024-03-01T10:00:00.1234567Z", "2024-03-01 10:00:00.123456"),  # .NET's 7 digits
        ("2024-12-31T23:59:59.9999999999Z", "2024-12-31 23:59:59.999999"),  # truncated
    ],
)
def test_parse_instant_accepts(raw, utc):
    micros = parse_instant(raw)
    assert micros is not None and mirror_text(micros) == utc


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30",
        "2023-02-29",
        "2024-03-01T24:00:00",
        "2024-03-01T10:60:00",
        "2024-03-01T10:00:60",
        "2024-03-01T10:00",
        "2024-03-01T10:00:00.",
        "2024-03-01T10:00:00.Z",
        "2024-03-01T10:00:00+14:01",
        "2024-03-01T10:00:00+0100",
        "2024-03-01T10:00:00 +01:00",
        "２０２４-03-01",  # full-width digits
        "0000-01-01",
        "yesterday",
        "2024-03-01\n2024",
    ],
)
def test_parse_instant_rejects(raw):
    assert parse_instant(raw) is None


# Timestamps the contract's grammar and the SQL judged differently when this was written
# (reported): a date with an offset is valid by TIMESTAMP_PATTERN (midnight at that
# offset); an instant that leaves years 1-9999 once in UTC cannot be stored (BigQuery's
# TIMESTAMP range, the mirror's YYYY text form), so it is bad_timestamp.
EDGE_TIMESTAMPS = {
    "z1": ("2024-03-01+02:00", None),  # an offset needs a time (TIMESTAMP_PATTERN)
    "z2": ("0001-01-01T00:00:00+01:00", None),  # year 0 once in UTC
    "z3": ("9999-12-31T23:00:00-05:00", None),  # year 10000 once in UTC
    "z4": ("0001-01-01T01:00:00+01:00", "0001-01-01 00:00:00.000000"),
    "z5": ("9999-12-31T23:59:59.999999Z", "9999-12-31 23:59:59.999999"),
}


def test_timestamp_edges_are_judged_by_the_contract(tmp_path):
    forms = [form(rid, "ann@example.org", ts=raw) for rid, (raw, _) in EDGE_TIMESTAMPS.items()]
    settings = build(tmp_path, {"contacts": CONTACTS, "measurement_events": forms})
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        contacts = reference_contacts(wh)
        (forms_spec,) = [s for s in reference_sources(FLAT).specs if s.event_type == "form"]
        ref = reference_source(wh, forms_spec, contacts, frozenset())
    for rid, (_, utc) in EDGE_TIMESTAMPS.items():
        row = _row(ref.outcomes[rid])
        assert (mirror_text(row[4]) if row else None) == utc, rid
        assert _reason(ref.outcomes[rid]) == (None if utc else "bad_timestamp")
    result = run(settings)
    with sqlite3.connect(settings.mirror_path) as con:
        in_ledger = {r for (r,) in con.execute("SELECT source_record_id FROM contact_events")}
    assert in_ledger == {rid for rid, (_, utc) in EDGE_TIMESTAMPS.items() if utc}
    for rid in EDGE_TIMESTAMPS:  # the SQL path and the reference agree on every edge
        assert [f for f in errors_of(result) if f.source_record_id == rid] == [], rid
