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
        problem = f"GoogleSQL gate: {e}"
    else:
        problem = None
    if problem is not None:
        if in_ci():
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    try:
        yield Analyzer(service)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def covered(bigquery_emulator, tmp_path_factory):
    """name -> Run, each run made the first time a test asks for it (a run that failed
    fails every test that asks for it, without running again)."""
    made: dict[str, Run | BaseException] = {}

    def get(name: str) -> Run:
        if name not in made:
            started = time.perf_counter()
            try:
                run = RUNS[name](tmp_path_factory.mktemp(name), bigquery_emulator)
            except Exception as e:  # noqa: BLE001 - kept, raised to each test that asks
                made[name] = e
            else:
                run.seconds = time.perf_counter() - started
                made[name] = run
        found = made[name]
        if isinstance(found, BaseException):
            raise RuntimeError(f"the {name} run failed: {found}") from found
        return found

    return get


@pytest.fixture(scope="session")
def checked(covered, analyzer):
    """name -> the gate's report on that covered run (gate.check), each made once."""
    from .gate import check

    reports = {}

    def get(name: str):
        if name not in reports:
            reports[name] = check(covered(name), analyzer)
        return reports[name]

    return get
