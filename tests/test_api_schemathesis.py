"""Property-based: requests generated from /openapi.json never get a 5xx.

Schemathesis generates valid and invalid requests (wrong types, out-of-range values,
odd strings) for every operation of the app's own schema and sends them to an app over
a real mirror; the only check is `not_a_server_error`. With a read token POST /rebuild
answers 403, so no rebuild runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from test_api_support import PRACTICE_TABLES, auth, make_app

from contact_events.app.http.main import create_app
from contact_events.builder.core.config import Settings

MAX_EXAMPLES = 100

# The schema does not depend on the data: take it from an app with no mirror behind it.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(mirror_path=Path("unused.db"), api_tokens=["unused" * 8])).openapi()
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
)


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    from conftest import build_mirror

    settings, _, _ = build_mirror(tmp_path_factory.mktemp("fuzz"), PRACTICE_TABLES)
    return make_app(settings)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case, served_app):
    case.call_and_validate(app=served_app, headers=auth(), checks=[not_a_server_error])
