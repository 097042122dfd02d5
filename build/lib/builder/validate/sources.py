"""Which reference sources a validation uses: the profile's, read independently.

`flat` and `lorchestra` are re-read from the raw canonical tables by this package's own
Python (mapping.py, lorchestra.py); a practice's own SOURCES_DIR from the rows its files
staged (staged.py). `scope` says which, and `validate` prints it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from builder.profiles import Profile
from builder.validate import lorchestra, mapping, staged
from builder.validate.mapping import SourceSpec


@dataclass(frozen=True)
class ReferenceSources:
    profile: str
    specs: tuple[SourceSpec, ...]
    # contacts rows in CONTRACT §1 column order; None: the flat `contacts` table
    contacts: Callable[[Any], Iterable[tuple[Any, ...]]] | None
    scope: str


def reference_sources(profile: Profile) -> ReferenceSources:
    if profile.name == "flat":
        return ReferenceSources(
            "flat", mapping.SPECS, None, "the raw canonical tables (flat profile)"
        )
    if profile.name == "lorchestra":
        return ReferenceSources(
            "lorchestra",
            lorchestra.SPECS,
            lorchestra.contact_rows,
            "the raw canonical_objects and measurement_events (lorchestra profile)",
        )
    declared = tuple((s.source_system or "", s.event_type or "") for s in profile.sources)
    return ReferenceSources(
        profile.name,
        staged.specs(declared),
        staged.contact_rows,
        f"the rows your source files in {profile.folder} staged (proj_stage_sources_last): "
        "parsing, dedupe, contact resolution, reasons, ledger, rejects and mirror were "
        "checked; your source SQL itself was not",
    )
