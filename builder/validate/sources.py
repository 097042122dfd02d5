"""Which reference sources a validation uses: the profile's, read independently.

`flat` and `lorchestra` are re-read from the raw canonical tables by this package's own
Python (mapping.py, lorchestra.py); a practice's own SOURCES_DIR from the rows its files
staged (staged.py). `scope` says which, and `validate` prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..stages.profiles import Profile, SourceFile
from . import lorchestra, mapping, staged
from .mapping import SourceSpec


@dataclass(frozen=True)
class ReferenceSources:
    profile: str
    specs: tuple[SourceSpec, ...]
    # contacts rows in CONTRACT §1 column order; None: the flat `contacts` table
    contacts: Callable[[Any], Iterable[tuple[Any, ...]]] | None
    scope: str


def reference_sources(profile: Profile) -> ReferenceSources:
    """The specs of the profile's sources: this package's own reading of each source of a
    built-in profile it knows (a flat source: table and event type from its header, its
    meaning from mapping.FLAT), the staged rows of any other."""
    if profile.name == "lorchestra":
        known = {spec.system: spec for spec in lorchestra.SPECS}
        contacts, scope = lorchestra.contact_rows, LORCHESTRA_SCOPE
    elif profile.name == "flat":
        known = {s.source_system: spec for s in profile.sources if (spec := _flat(s))}
        contacts, scope = None, "the raw canonical tables (flat profile)"
    else:
        known = {}
        contacts = staged.contact_rows
        scope = (
            f"the rows your source files in {profile.folder} staged (proj_stage_sources_last):"
            " parsing, dedupe, contact resolution, reasons, ledger, rejects and mirror were "
            "checked; your source SQL itself was not"
        )
    others = tuple(
        (s.source_system or "", s.event_type or "")
        for s in profile.sources
        if s.source_system not in known
    )
    if known and others:
        scope += f"; {', '.join(system for system, _ in others)} from the rows they staged"
    specs = tuple(known[s.source_system] for s in profile.sources if s.source_system in known)
    return ReferenceSources(profile.name, specs + staged.specs(others), contacts, scope)


LORCHESTRA_SCOPE = "the raw canonical_objects and measurement_events (lorchestra profile)"


def _flat(source: SourceFile) -> SourceSpec | None:
    """A flat source as this package reads it: its header's table and event type, its
    meaning from mapping.FLAT (None: no reading of it here, or it reads no one table that
    holds the columns the reading needs)."""
    meaning = mapping.FLAT.get(source.source_system or "")
    tables = (
        [t for t, columns in source.tables.items() if set(meaning.columns) <= set(columns)]
        if meaning
        else []
    )
    if meaning is None or len(tables) != 1:
        return None
    return SourceSpec(
        tables[0],
        source.source_system or "",
        meaning.columns[0],
        source.event_type or "",
        meaning.columns,
        meaning.payload_keys,
        meaning.map_row,
    )
