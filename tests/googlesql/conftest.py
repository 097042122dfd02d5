"""Fixtures of the GoogleSQL gate: the analyzer (fetched into a cache on first use) and
the covered runs on the BigQuery emulator (each made once per session, on first use)."""

from __future__ import annotations

import os
import time

import pytest

from .capture import RUNS, Run
from .service import LocalService, Unavailable, ensure


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def analyzer():
    """ZetaSQL's analyzer with BigQuery's settings. Without npm or the network: one line,
    a failure in CI (the gate never passes by not running), a skip elsewhere."""
    from .analyzer import Analyzer

    try:
        service = LocalService(ensure())
    except Unavailable as e:
        if in_ci():
            pytest.fail(f"GoogleSQL gate: {e}", pytrace=False)
        pytest.skip(f"GoogleSQL gate: {e}")
    try:
        yield Analyzer(service)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def covered(bigquery_emulator, tmp_path_factory):
    """name -> Run, each run made the first time a test asks for it."""
    made: dict[str, Run] = {}

    def get(name: str) -> Run:
        if name not in made:
            started = time.perf_counter()
            made[name] = RUNS[name](tmp_path_factory.mktemp(name), bigquery_emulator)
            made[name].seconds = time.perf_counter() - started
        return made[name]

    return get
