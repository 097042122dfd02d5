"""Fixtures of tests/validate/: the traps built once for the package, a fresh build per
test for the tests that mutate it, and the reference path's own answer on the traps."""

from __future__ import annotations

import pytest

from conftest import FLAT
from contact_events.builder.core.config import Settings
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.validate.reference import reference_contacts, reference_source
from contact_events.builder.validate.sources import reference_sources

from .cases import build


@pytest.fixture(scope="package")
def traps(tmp_path_factory) -> Settings:
    return build(tmp_path_factory.mktemp("traps"))


@pytest.fixture
def fresh(tmp_path) -> Settings:
    return build(tmp_path)


@pytest.fixture(scope="package")
def reference(traps):
    """The reference path alone: {(system, id): outcome}, missing ids, contacts."""
    with DuckDBWarehouse(traps.duckdb_path) as wh:
        contacts = reference_contacts(wh)
        practice = frozenset(traps.practice_emails)
        outcomes, missing = {}, {}
        for spec in reference_sources(FLAT).specs:
            ref = reference_source(wh, spec, contacts, practice)
            for record_id, outcome in ref.outcomes.items():
                outcomes[(spec.system, record_id)] = (spec, outcome)
            missing[spec.system] = len(ref.missing_ids)
    return outcomes, missing, contacts
