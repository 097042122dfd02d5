"""The Python client (client/, `contact_events_client`) against the real app: models out,
typed filters in, from_env, wait_for_rebuild, errors -- the README's automation script,
run as a user runs it against a served app -- and that the client stands alone: its
route methods and models are current with the service's declarations, and importing it
loads nothing of the service."""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pydantic import BaseModel
from test_api_support import (
    ADMIN,
    AS_OF,
    PRACTICE_TABLES,
    READ,
    Server,
    TestClient,
    as_sent,
    auth,
    client_for,
    make_app,
)

from contact_events.app.canned import table as canned
from contact_events.builder.core.config import Settings, check_environment
from contact_events.builder.pipeline import rebuild
from contact_events_client import (
    ContactEventsAPIError,
    ContactEventsClient,
    ContactEventsConfigError,
    ContactEventsConnectionError,
    ContactEventsError,
    RebuildFailedError,
)
from contact_events_client.models import (
    ChannelSummaryPage,
    ChannelSummaryRow,
    EventPage,
    GoneQuietPage,
    GoneQuietRow,
    HealthResponse,
    LedgerEvent,
    NeedsFormPage,
    NeedsFormRow,
    RebuildJob,
    StatusResponse,
)

pytest_plugins = ["test_api_support"]

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
URL, TOKEN = "CONTACT_EVENTS_API_URL", "CONTACT_EVENTS_API_TOKEN"


# -- the README's automation script ----------------------------------------------------


def readme_script() -> str:
    """The first ```python block of the README's "Automation with the Python client"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Automation with the Python client\n", 1)[1]
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "one script in the section"
    return blocks[0]


def run_script(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")}
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_readme_script_prints_every_page_of_needs_form(mirror_factory, tmp_path: Path):
    script = readme_script()
    assert len(script.strip().splitlines()) <= 12
    assert "from_env()" in script and "iter_needs_form(days=14)" in script
    tables = copy.deepcopy(PRACTICE_TABLES)
    tables["contacts"].append({"contact_id": "c6", "first_name": "No", "last_name": "Email"})
    settings, _, _ = mirror_factory(tables)
    # A row cap of 2 makes pages of 2: the script must follow next_cursor to see them all.
    with Server(make_app(settings, max_rows=2)) as base:
        # The API's answer, page by page, read without the client.
        rows: list[dict[str, Any]] = []
        pages = 0
        with httpx.Client(base_url=base, headers=auth(READ), timeout=TIMEOUT) as http:
            cursor = None
            while True:
                params = {"days": "14", **({"cursor": cursor} if cursor else {})}
                page = http.get("/contacts/needs-form", params=params)
                assert page.status_code == 200, page.text
                rows += page.json()["items"]
                pages += 1
                if (cursor := page.json()["next_cursor"]) is None:
                    break
        assert pages >= 3 and len(rows) == 6  # all six contacts are due (2024 data)
        expected = [f"{r['contact_id']}\t{r['email']}" for r in rows if r["email"]]
        assert len(expected) == 5  # c6 has no email: not printed

        done = run_script(script, {URL: base, TOKEN: READ}, tmp_path)
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.splitlines() == expected

        # A wrong token: one line naming the error, exit 1.
        denied = run_script(script, {URL: base, TOKEN: "not-a-token-" + "x" * 30}, tmp_path)
        assert denied.returncode == 1 and denied.stdout == ""
        assert denied.stderr.startswith("needs-form: 401 unauthorized: ")
        assert len(denied.stderr.splitlines()) == 1

    # No variables: one line naming both, exit 1.
    unset = run_script(script, {}, tmp_path)
    assert unset.returncode == 1 and unset.stdout == ""
    assert unset.stderr.splitlines() == [
        f"needs-form: {URL} and {TOKEN} are not set: export {URL} (e.g. http://127.0.0.1:8000) "
        f"and {TOKEN} (an API token)"
    ]
    # No server: one line naming the URL.
    gone = run_script(script, {URL: base, TOKEN: READ}, tmp_path)
    assert gone.returncode == 1 and len(gone.stderr.splitlines()) == 1
    assert gone.stderr.startswith(f"needs-form: GET {base}/contacts/needs-form")
    assert "no answer" in gone.stderr


# -- from_env --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, [URL, TOKEN]),
        ({TOKEN: READ}, [URL]),
        ({URL: "http://127.0.0.1:8000"}, [TOKEN]),
        ({URL: "  ", TOKEN: READ}, [URL]),  # blank is unset
        ({URL: "http://127.0.0.1:8000", TOKEN: ""}, [TOKEN]),
    ],
)
def test_from_env_names_the_missing_variable(environ, missing):
    with pytest.raises(ContactEventsConfigError) as err:
        ContactEventsClient.from_env(environ)
    message = str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, ContactEventsError)
    assert "\n" not in message
    assert message.startswith(" and ".join(missing) + (" is" if len(missing) == 1 else " are"))
    assert message.endswith(f"export {URL} (e.g. http://127.0.0.1:8000) and {TOKEN} (an API token)")


def test_from_env_reads_os_environ_and_sends_the_token(practice: Settings, monkeypatch):
    monkeypatch.delenv(URL, raising=False)
    monkeypatch.delenv(TOKEN, raising=False)
    with pytest.raises(ContactEventsConfigError, match=f"^{URL} and {TOKEN} are not set"):
        ContactEventsClient.from_env()
    monkeypatch.setenv(URL, "http://testserver")
    monkeypatch.setenv(TOKEN, READ)
    with TestClient(make_app(practice)) as test_client:
        api = ContactEventsClient.from_env(client=test_client)
        assert api.status().build.ledger_rows == 19  # a route that needs the token
    # The service's settings know these names: a shell set up for the client runs the CLI.
    check_environment(dict(os.environ))
    Settings()


def test_from_env_builds_its_own_http_client():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"status": "ok", "mirror_available": True, "mirror_verified": True}
        )

    environ = {URL: "http://api.example:8000", TOKEN: " " + READ + "\n"}
    with ContactEventsClient.from_env(environ, transport=httpx.MockTransport(answer)) as api:
        assert api.health() == HealthResponse(
            status="ok", mirror_available=True, mirror_verified=True
        )
    assert str(seen[0].url) == "http://api.example:8000/health"
    assert seen[0].headers["Authorization"] == f"Bearer {READ}"  # trimmed


# -- typed keyword arguments -----------------------------------------------------------

# method -> (the canned route it calls, whether it is an iterator): every route, generated
METHODS = {
    **{route.name: (route, False) for route in canned.ROUTES.entries},
    **{f"iter_{route.name}": (route, True) for route in canned.ROUTES.entries if route.is_list},
}
PUBLIC = [
    name
    for name, member in inspect.getmembers(ContactEventsClient)
    if not name.startswith("_") and callable(member)
]


def test_every_method_has_named_parameters_only():
    assert set(METHODS) <= set(PUBLIC)
    for name in PUBLIC:
        kinds = {
            p.kind
            for p in inspect.signature(getattr(ContactEventsClient, name)).parameters.values()
        }
        assert inspect.Parameter.VAR_KEYWORD not in kinds, name
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, name


@pytest.mark.parametrize("name", sorted(METHODS))
def test_each_method_takes_exactly_its_routes_parameters(name):
    route, is_iterator = METHODS[name]
    signature = inspect.signature(getattr(ContactEventsClient, name))
    taken = set(signature.parameters) - {"self"}
    wanted = {p.name for p in route.params.params}
    if is_iterator:
        wanted -= {"cursor"}  # the iterator follows the cursors itself
    assert taken == wanted
    for param in route.params.params:
        if param.name in taken and param.where == "query":
            assert signature.parameters[param.name].default is None, (name, param.name)


def test_an_unknown_keyword_is_a_type_error_before_any_request():
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    api = ContactEventsClient("http://x", READ, transport=httpx.MockTransport(answer))
    calls = [
        lambda: api.needs_form(14, mesure="phq9"),
        lambda: api.iter_needs_form(day=14),
        lambda: api.gone_quiet(event_types="form"),
        lambda: api.iter_gone_quiet(30, cursor="abc"),  # iterators take no cursor
        lambda: api.channel_summary(stage="active"),
        lambda: api.iter_channel_summary(lifecycle="active"),
        lambda: api.contact_summary("c1", since=AS_OF),
        lambda: api.timeline("c1", event_name="x"),
        lambda: api.iter_timeline("c1", contact_id="c2"),
        lambda: api.events(name="Form Reminder Sent"),
        lambda: api.iter_events(evnt_type="form"),
        lambda: api.events("c1"),  # filters are keywords
        lambda: api.rebuild(wait=True),
        lambda: api.wait_for_rebuild("j", 5),  # timeout is a keyword
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
    assert requests == []


def test_timestamps_are_datetimes_dates_or_text():
    urls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    api = ContactEventsClient("http://x", READ, transport=httpx.MockTransport(answer))
    plus2 = timezone(timedelta(hours=2))
    api.events(since=datetime(2024, 6, 30, 14, 0, tzinfo=plus2))
    api.events(until=datetime(2024, 6, 30, 12, 0, 0, 1))  # naive: UTC
    api.events(as_of=date(2024, 6, 30))
    api.events(since="2024-06-30T12:00:00+02:00")  # text as given (encoded)
    api.events(event_type=None, limit=5)  # None: not sent
    assert urls == [
        "http://x/events?since=2024-06-30T12%3A00%3A00Z",
        "http://x/events?until=2024-06-30T12%3A00%3A00.000001Z",
        "http://x/events?as_of=2024-06-30",
        "http://x/events?since=2024-06-30T12%3A00%3A00%2B02%3A00",
        "http://x/events?limit=5",
    ]


def test_datetimes_give_the_same_answers_as_text(api: ContactEventsClient):
    as_of = datetime(2024, 6, 30, 12, tzinfo=UTC)
    assert api.needs_form(as_of=as_of) == api.needs_form(as_of=AS_OF)
    assert api.needs_form(as_of=as_of.replace(tzinfo=None)) == api.needs_form(as_of=AS_OF)
    since = datetime(2024, 6, 20, 14, tzinfo=timezone(timedelta(hours=2)))
    assert api.timeline("c1", since=since, as_of=as_of) == api.timeline(
        "c1", since="2024-06-20T12:00:00Z", as_of=AS_OF
    )
    assert api.events(since=date(2024, 7, 1)) == api.events(since="2024-07-01T00:00:00Z")


# -- models out --------------------------------------------------------------------------


def same(model: BaseModel, raw: Any, drop: tuple[str, ...] = ()) -> None:
    """The model is the whole answer: nothing lost, nothing added, every value equal (its
    timestamps, datetimes in UTC, as the API's text)."""
    dumped = as_sent(model)
    for key in drop:
        dumped.pop(key)
        raw.pop(key)
    assert dumped == raw


def test_every_method_returns_its_routes_model_and_the_whole_answer(practice: Settings):
    test_client, api = client_for(make_app(practice))
    admin = ContactEventsClient("http://testserver", ADMIN, client=test_client)

    def raw(url: str) -> Any:
        response = test_client.get(url, headers=auth())
        assert response.status_code == 200, (url, response.text)
        return response.json()

    at = f"as_of={quote(AS_OF)}"
    with test_client:
        cases: list[tuple[BaseModel, type[BaseModel], str]] = [
            (api.health(), HealthResponse, "/health"),
            (api.needs_form(as_of=AS_OF), NeedsFormPage, f"/contacts/needs-form?{at}"),
            (api.gone_quiet(as_of=AS_OF), GoneQuietPage, f"/contacts/gone-quiet?{at}"),
            (
                api.channel_summary(as_of=AS_OF),
                ChannelSummaryPage,
                f"/contacts/channel-summary?{at}",
            ),
            (
                api.contact_summary("c1", as_of=AS_OF),
                ChannelSummaryRow,
                f"/contacts/c1/summary?{at}",
            ),
            (api.timeline("c2", as_of=AS_OF), EventPage, f"/contacts/c2/timeline?{at}"),
            (api.events(as_of=AS_OF), EventPage, f"/events?{at}"),
        ]
        for model, kind, url in cases:
            assert type(model) is kind, url
            same(model, raw(url))
        status = api.status()
        assert isinstance(status, StatusResponse)
        same(status, raw("/status"), drop=("mirror_age_seconds",))
        for page in (cases[1][0], cases[2][0], cases[3][0], cases[5][0], cases[6][0]):
            assert page.items, page

        iterated = [
            (list(api.iter_needs_form(as_of=AS_OF, limit=1)), NeedsFormRow, cases[1][0]),
            (list(api.iter_gone_quiet(0, as_of=AS_OF, limit=1)), GoneQuietRow, None),
            (list(api.iter_channel_summary(as_of=AS_OF, limit=2)), ChannelSummaryRow, cases[3][0]),
            (list(api.iter_timeline("c2", as_of=AS_OF, limit=3)), LedgerEvent, cases[5][0]),
            (list(api.iter_events(as_of=AS_OF, limit=4)), LedgerEvent, cases[6][0]),
        ]  # fmt: skip
        for items, kind, page in iterated:
            assert items and all(type(item) is kind for item in items)
            if page is not None:
                assert items == page.items
        assert iterated[1][0] == api.gone_quiet(0, as_of=AS_OF, limit=1000).items

        job = admin.rebuild()
        assert isinstance(job, RebuildJob)
        done = admin.wait_for_rebuild(job.job_id, timeout=TIMEOUT, poll=0.02)
        assert isinstance(done, RebuildJob) and done.job_id == job.job_id
        same(done, raw(f"/rebuild/{job.job_id}"))
        followed = api.rebuild_job(job.job_id)  # a read token may follow it
        assert isinstance(followed, RebuildJob) and followed == done


# -- wait_for_rebuild --------------------------------------------------------------------


def test_wait_for_rebuild_returns_the_succeeded_job(practice: Settings):
    test_client, admin = client_for(make_app(practice), token=ADMIN)
    with test_client:
        before = admin.status().build.build_id
        job = admin.rebuild()
        done = admin.wait_for_rebuild(job.job_id, timeout=TIMEOUT, poll=0.02)
        assert done.state == "succeeded" and done.error is None
        assert done.report is not None and done.report.total_rows == 19
        assert admin.status().build.build_id == done.report.build_id != before


def test_wait_for_rebuild_times_out_naming_the_job_then_waits_again(practice: Settings):
    gate = threading.Event()

    def gated(settings: Settings):
        assert gate.wait(TIMEOUT)
        return rebuild(settings)

    test_client, admin = client_for(make_app(practice, rebuild_runner=gated), token=ADMIN)
    with test_client:
        job = admin.rebuild()
        started = time.monotonic()
        try:
            with pytest.raises(TimeoutError) as err:
                admin.wait_for_rebuild(job.job_id, timeout=0.3, poll=0.05)
            waited = time.monotonic() - started
        finally:
            gate.set()
        assert 0.3 <= waited < 5
        message = str(err.value)
        assert message.startswith(f"rebuild job {job.job_id} still ")
        assert "after 0.3 s" in message and "\n" not in message
        # The job went on: waiting again finds it done; timeout=0 is one look, no wait.
        done = admin.wait_for_rebuild(job.job_id, timeout=TIMEOUT, poll=0.02)
        assert done.state == "succeeded"
        assert admin.wait_for_rebuild(job.job_id, timeout=0) == done


def test_wait_for_rebuild_raises_on_a_failed_job(practice: Settings):
    import duckdb

    con = duckdb.connect(str(practice.duckdb_path))
    try:
        con.execute("DROP TABLE messages")
    finally:
        con.close()
    test_client, admin = client_for(make_app(practice), token=ADMIN)
    with test_client:
        build_id = admin.status().build.build_id
        job = admin.rebuild()
        with pytest.raises(RebuildFailedError) as err:
            admin.wait_for_rebuild(job.job_id, timeout=TIMEOUT, poll=0.02)
        failed = err.value.job
        assert isinstance(failed, RebuildJob)
        assert (failed.job_id, failed.state, failed.report) == (job.job_id, "failed", None)
        assert failed.error is not None and "messages" in failed.error
        assert str(err.value) == f"rebuild job {job.job_id} failed: {failed.error}"
        assert admin.status().build.build_id == build_id  # the old mirror still served


def test_wait_for_rebuild_unknown_job_and_bad_arguments(api: ContactEventsClient):
    with pytest.raises(ContactEventsAPIError) as err:
        api.wait_for_rebuild("no-such-job", timeout=1)
    assert (err.value.status, err.value.code, err.value.field) == (404, "not_found", "job_id")
    for kwargs in ({"timeout": -1.0}, {"poll": 0.0}):
        with pytest.raises(ValueError, match="timeout must be >= 0 and poll > 0"):
            api.wait_for_rebuild("j", **kwargs)


# -- errors ------------------------------------------------------------------------------


def test_retry_after_is_surfaced(practice: Settings):
    from contact_events.app.jobs.manager import jobs_path

    jobs_path(practice).mkdir()  # the job store cannot be used: 503 with Retry-After: 30
    test_client, admin = client_for(make_app(practice), token=ADMIN)
    with test_client:
        with pytest.raises(ContactEventsAPIError) as err:
            admin.rebuild()
    error = err.value
    assert (error.status, error.code, error.retry_after) == (503, "job_store_unavailable", 30.0)
    assert str(error).endswith("(retry after 30 s)")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_a_429_carries_retry_after(header, expected):
    body = {"error": {"code": "rate_limited", "message": "slow down", "field": None}}
    transport = httpx.MockTransport(lambda request: httpx.Response(429, json=body, headers=header))
    api = ContactEventsClient("http://x", READ, transport=transport)
    with pytest.raises(ContactEventsAPIError) as err:
        api.events()
    error = err.value
    assert (error.status, error.code, error.message, error.field) == (
        429,
        "rate_limited",
        "slow down",
        None,
    )
    assert error.retry_after == expected


def test_a_future_retry_after_date_is_seconds_from_now():
    later = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(429, headers={"Retry-After": later})
    )
    with pytest.raises(ContactEventsAPIError) as err:
        ContactEventsClient("http://x", READ, transport=transport).health()
    assert err.value.retry_after is not None and 100 < err.value.retry_after <= 120
    assert (err.value.code, err.value.message) == ("http_error", "Too Many Requests")


def test_an_answer_that_is_not_the_model_is_an_api_error():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"items": 3}))
    api = ContactEventsClient("http://x", READ, transport=transport)
    with pytest.raises(ContactEventsAPIError) as err:
        api.needs_form()
    assert err.value.code == "invalid_response"
    assert err.value.message.startswith(
        "GET /contacts/needs-form: the answer is not a NeedsFormPage"
    )


def test_no_answer_is_a_connection_error_naming_the_url():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    api = ContactEventsClient("http://127.0.0.1:9", READ, transport=httpx.MockTransport(refuse))
    with pytest.raises(ContactEventsConnectionError) as err:
        api.timeline("c 1")
    assert str(err.value) == (
        "GET http://127.0.0.1:9/contacts/c%201/timeline: "
        "no answer (ConnectError: Connection refused)"
    )


# -- the client stands alone ---------------------------------------------------------------


def test_the_generated_methods_and_models_are_current():
    """client/generate.py renders them from app/canned/table.py and app/canned/models.py: a route or
    model changed without regenerating fails here, naming the command."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "client" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_importing_the_client_loads_nothing_of_the_service(tmp_path):
    probe = (
        "import json, sys, contact_events_client, contact_events_client.models; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert {"httpx", "pydantic"} <= loaded
    assert loaded.isdisjoint({"app", "builder", "fastapi", "duckdb", "sqlglot", "pyarrow"})


def test_timestamps_are_utc_datetimes(api: ContactEventsClient):
    (row,) = [r for r in api.needs_form(as_of=AS_OF).items if r.contact_id == "c3"]
    assert row.last_form_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert row.last_form_at.tzinfo is UTC
    event = api.timeline("c1", as_of=AS_OF).items[0]
    assert isinstance(event.event_timestamp, datetime) and event.event_timestamp.tzinfo is UTC
