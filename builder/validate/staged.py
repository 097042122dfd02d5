"""A practice's own source files (CONTACT_EVENTS_SOURCES_DIR): validation from the staged rows.

This path cannot know what a practice's own SQL means, so it does not re-read their
canonical tables. It starts from the rows the source files staged in the warehouse
(`proj_stage_sources_last`, `proj_stage_contacts_raw`, written by every build) and checks
everything downstream of them: timestamp parsing, dedupe, contact resolution, reasons,
the ledger, the rejects and the mirror. `validate` says so in its summary.

Staged values are used as staged: the shared step does not trim them, so neither does
this path (a staged `timestamp_raw` of `''` is a bad timestamp, not a missing one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..core import contract as c
from .mapping import Candidate, SourceSpec, _intern, norm_email
from .timestamps import parse_instant

STAGED_TABLE = "proj_stage_sources_last"  # this build's, once it has finished
STAGED_CONTACTS = "proj_stage_contacts_raw"
COLUMNS = ("source_record_id", *c.STAGED_COLUMNS[1:], "orphan_detail")
assert c.STAGED_COLUMNS[0] == "source_record_id"

Row = tuple[Any, ...]


def _rows_of(system: str) -> Callable[[Any], Iterator[Row]]:
    def stream(warehouse: Any) -> Iterator[Row]:
        if not warehouse.table_exists(STAGED_TABLE):
            return
        for batch in warehouse.read_batches(STAGED_TABLE, ["source_system", *COLUMNS]):
            columns = [col.to_pylist() for col in batch.columns]
            for row in zip(*columns, strict=True):
                if row[0] == system:
                    yield row[1:]

    return stream


def _map_staged(row: Row, practice: frozenset[str]) -> Candidate:
    _id, name, source, ts, created, contact_id, email, payload, orphan_detail = row
    return (
        None if created is None else parse_instant(created),
        _intern(name),
        _intern(source),
        ts,
        contact_id,
        norm_email(email),
        payload,
        created,
        orphan_detail,
    )


def specs(sources: tuple[tuple[str, str], ...]) -> tuple[SourceSpec, ...]:
    """One spec per declared (source_system, event_type)."""
    return tuple(
        SourceSpec(
            STAGED_TABLE,
            system,
            "source_record_id",
            event_type,
            COLUMNS,
            None,
            _map_staged,
            _rows_of(system),
        )  # fmt: skip
        for system, event_type in sources
    )


def contact_rows(warehouse: Any) -> Iterator[Row]:
    if not warehouse.table_exists(STAGED_CONTACTS):
        return
    columns = list(c.CONTACT_COLUMNS)
    for batch in warehouse.read_batches(STAGED_CONTACTS, columns):
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)
