"""builder/validate/rendering.py: the summary and a contact's timeline, as printed."""

from __future__ import annotations

from rich.console import Console

from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.validate.findings import MIRROR, WAREHOUSE
from contact_events.builder.validate.rendering import render, render_timeline

from .cases import mutate, run


def test_render_prints_a_summary(traps):
    console = Console(record=True, width=200)
    render(run(traps), console)
    text = console.export_text()
    assert "validation summary" in text and "OK" in text


def test_restricted_result_keeps_the_timeline(fresh):
    mutate(
        fresh,
        MIRROR,
        "UPDATE contact_events SET event_timestamp = '2030-01-01 00:00:00.000000' "
        "WHERE source_record_id = 'm02'",
    )
    result = run(fresh, contacts=["c1"])
    timeline = result.timelines["c1"]
    ids = [r["source_record_id"] for r in timeline.reference]
    assert {"f01", "s01", "e01", "m02", "m07"} <= set(ids)
    assert ids == [r["source_record_id"] for r in timeline.ledger[WAREHOUSE]]
    assert timeline.ledger[MIRROR][0]["source_record_id"] == "m02"  # newest first
    stamps = [r["_ts"] for r in timeline.reference]
    assert stamps == sorted(stamps, reverse=True)
    console = Console(record=True, width=220)
    render_timeline(result, "c1", console)
    text = console.export_text()
    assert "timeline of c1" in text
    lines = text.splitlines()
    m02 = next(line for line in lines if "messages/m02" in line)
    assert m02.split("│")[-3:-1] == ["     ✓     ", "   ✗    "]  # warehouse ok, mirror not
    assert lines.index(m02) < next(i for i, line in enumerate(lines) if "/f15" in line)
    f01 = next(line for line in lines if "measurement_events/f01" in line)
    assert "2024-03-01 08:00:00" in f01 and "✗" not in f01 and f01.count("✓") == 2
    assert "rejects related to c1" in text and "measurement_events/f05" in text
    assert "m02 field_differs event_timestamp" in text


def test_render_timeline_from_a_warehouse(traps):
    console = Console(record=True, width=220)
    with DuckDBWarehouse(traps.duckdb_path) as wh:
        result = render_timeline(wh, "c2", console, settings=traps)
    assert result.ok and "c2" in result.timelines
    assert "s03" in console.export_text()
