"""The API's limits: failed authentication rate-limited per client
address (429 with Retry-After), the URL and the header fields capped (414/431), each
answered in the JSON error shape."""

from __future__ import annotations

import json
import os
import socket

import pytest
from test_api_fastpath import strip_middleware
from test_api_support import ADMIN, AS_OF, READ, TestClient, auth, make_app
from test_serve import READ_TOKEN, free_port, start, stop, wait_up

from conftest import build_mirror
from contact_events.app.canned.handler import PAGE_BYTES, Plan
from contact_events.app.canned.kept import AnswerCache
from contact_events.app.core.auth import FailureLimiter
from contact_events.app.http.limits import (
    H11_MAX_INCOMPLETE_EVENT_SIZE,
    MAX_HEADER_BYTES,
    MAX_HEADERS,
    MAX_URL_BYTES,
)

pytest_plugins = ["test_api_support"]

# One of each kind of route that needs a token: canned routes (the lean path), a FastAPI
# router with its dependencies, the admin route.
LIMITED = [
    ("GET", "/contacts/needs-form"),
    ("GET", "/contacts/c1/timeline"),
    ("GET", "/events"),
    ("GET", "/status"),
    ("GET", "/rebuild/abc"),
    ("POST", "/rebuild"),
]


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_app(settings, clock: Clock, limit: int = 3):
    app = make_app(settings, auth_failures_per_minute=limit)
    assert app.state.auth.failures.limit == limit  # the setting reaches the limiter
    app.state.auth.failures = FailureLimiter(limit, clock=clock)
    return app


def assert_429(response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after)
    error = response.json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["field"] is None
    assert f"{retry_after} s" in error["message"]
    assert READ not in response.text and "wrong" not in response.text


def test_wrong_tokens_block_the_address_for_a_minute(practice):
    clock = Clock()
    with TestClient(limited_app(practice, clock)) as http:
        for _ in range(3):  # the limit: 401 each
            assert http.get("/status", headers=auth("wrong-token")).status_code == 401
        for method, url in LIMITED:  # then every route that needs a token, any token
            for token in ("wrong-token", READ, ADMIN):
                assert_429(http.request(method, url, headers=auth(token)), 60)
            assert_429(http.request(method, url), 60)
        assert http.get("/health").status_code == 200  # no token, no limit
        clock.now += 59.5
        assert_429(http.get("/events", headers=auth(READ)), 1)
        clock.now += 0.5  # a minute after the third failure
        assert http.get("/events", headers=auth(READ)).status_code == 200
        # A fresh window: one wrong token is a 401 again, not a 429.
        assert http.get("/events", headers=auth("wrong-token")).status_code == 401
        assert http.get("/events", headers=auth(READ)).status_code == 200


def test_the_limit_is_per_client_address(practice):
    clock = Clock()
    app = limited_app(practice, clock)
    with TestClient(app) as first, TestClient(app, client=("127.0.0.2", 40000)) as second:
        for _ in range(3):
            assert first.get("/events", headers=auth("wrong-token")).status_code == 401
        assert_429(first.get("/events", headers=auth(READ)), 60)
        assert second.get("/events", headers=auth(READ)).status_code == 200
        assert second.get("/events", headers=auth("wrong-token")).status_code == 401


def test_a_missing_token_and_a_good_one_do_not_count(practice):
    clock = Clock()
    with TestClient(limited_app(practice, clock)) as http:
        for _ in range(20):  # nothing guessed
            assert http.get("/events").status_code == 401
            assert http.get("/events", headers={"Authorization": f"Basic {READ}"}).status_code == (
                401
            )
            assert http.get("/events", headers=auth(READ)).status_code == 200
        # Successes do not forgive failures either: a read token does not buy more
        # guesses at the admin token.
        assert http.post("/rebuild", headers=auth("wrong-admin")).status_code == 401
        assert http.get("/events", headers=auth(READ)).status_code == 200
        assert http.post("/rebuild", headers=auth("wrong-admin")).status_code == 401
        assert http.post("/rebuild", headers=auth(READ)).status_code == 403  # not a failure
        assert http.post("/rebuild", headers=auth("wrong-admin")).status_code == 401
        assert_429(http.post("/rebuild", headers=auth(ADMIN)), 60)


def test_failures_spread_over_more_than_a_minute_never_block(practice):
    clock = Clock()
    with TestClient(limited_app(practice, clock)) as http:
        for _ in range(10):
            for _ in range(2):
                assert http.get("/events", headers=auth("wrong-token")).status_code == 401
            clock.now += 61
        assert http.get("/events", headers=auth(READ)).status_code == 200


def test_the_lean_path_and_fastapi_answer_429_alike(practice):
    """The lean ASGI path and the documented FastAPI route of a canned route."""
    replies = []
    for strip in (False, True):
        app = limited_app(practice, Clock(), limit=1)
        with TestClient(strip_middleware(app) if strip else app) as http:
            assert http.get("/events", headers=auth("wrong-token")).status_code == 401
            response = http.get("/events", headers=auth(READ))
            assert_429(response, 60)
            replies.append((response.headers["content-type"], response.content))
    assert replies[0] == replies[1]


def test_the_limiter_forgets_the_oldest_addresses_first():
    clock = Clock()
    limiter = FailureLimiter(2, max_clients=100, clock=clock)
    for i in range(1000):
        limiter.failed(f"client-{i}")
        limiter.failed(f"client-{i}")
    assert len(limiter) == 100
    assert limiter.blocked("client-999") == 60
    assert limiter.blocked("client-0") == 0  # forgotten, not blocked forever
    clock.now += 60
    assert limiter.blocked("client-999") == 0


def test_the_setting_comes_from_the_environment(monkeypatch, tmp_path):
    from contact_events.app.http.main import settings_from_environment
    from contact_events.builder.core.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTACT_EVENTS_AUTH_FAILURES_PER_MINUTE", "25")
    assert settings_from_environment().auth_failures_per_minute == 25
    monkeypatch.setenv("CONTACT_EVENTS_AUTH_FAILURES_PER_MINUTE", "0")
    with pytest.raises(ConfigError, match="CONTACT_EVENTS_AUTH_FAILURES_PER_MINUTE"):
        settings_from_environment()


def test_429_is_documented(practice):
    schema = make_app(practice).openapi()
    for path in ("/events", "/status", "/rebuild"):
        for operation in schema["paths"][path].values():
            assert "429" in operation["responses"], path


# -- URL and header caps --------------------------------------------------------------


def assert_limit_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:200]
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["field"] is None


def oversized_requests() -> list[tuple[str, dict[str, str], int, str]]:
    """(url, headers, status, code) of requests each just past one limit."""
    many = {f"x-h{i}": "1" for i in range(MAX_HEADERS)}  # + Host and the client's own
    return [
        ("/events?q=" + "a" * MAX_URL_BYTES, {}, 414, "uri_too_long"),
        ("/contacts/" + "c" * MAX_URL_BYTES + "/timeline", {}, 414, "uri_too_long"),
        ("/events", many, 431, "header_fields_too_large"),
        ("/events", {"x-big": "b" * MAX_HEADER_BYTES}, 431, "header_fields_too_large"),
        (
            "/events",
            {f"x-h{i}": "b" * (MAX_HEADER_BYTES // 50) for i in range(60)},
            431,
            "header_fields_too_large",
        ),
    ]


def test_oversized_requests_are_refused_in_the_json_error_shape(http: TestClient):
    for url, headers, status, code in oversized_requests():
        for path in (url, url.replace("/events", "/health"), url.replace("/events", "/nope")):
            response = http.get(path, headers={**auth(READ), **headers})
            assert_limit_error(response, status, code)
            assert response.headers["connection"] == "close"


def test_requests_within_the_limits_are_answered(http: TestClient):
    cursor = "A" * 10_000  # a long (bogus) cursor is the route's to judge: 400, not 414
    response = http.get(f"/events?cursor={cursor}", headers=auth(READ))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"
    headers = {f"x-h{i}": "1" for i in range(MAX_HEADERS - 10)}
    assert http.get("/events", headers={**auth(READ), **headers}).status_code == 200
    big = {"x-big": "b" * (MAX_HEADER_BYTES - 1000)}
    assert http.get("/events", headers={**auth(READ), **big}).status_code == 200


@pytest.fixture
def server(tmp_path):
    """`contact-events serve` on a free port of 127.0.0.1: (port, process)."""
    settings, _, _ = build_mirror(tmp_path, {"contacts": [{"contact_id": "c1"}]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")}
    env.update(
        CONTACT_EVENTS_MIRROR_PATH=str(settings.mirror_path),
        CONTACT_EVENTS_DUCKDB_PATH=str(settings.duckdb_path),
        CONTACT_EVENTS_API_TOKENS=READ_TOKEN,
    )
    port = free_port()
    proc = start(["--port", str(port)], env, tmp_path)
    try:
        wait_up(f"http://127.0.0.1:{port}", proc)
        yield port, proc
    finally:
        stop(proc)


def exchange(port: int, request: bytes, timeout: float = 10) -> tuple[bytes, bool]:
    """Send `request` on a new connection and read until the server closes it: (what
    came back, whether the server closed the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered and closed before the whole request was sent
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            return received, False
        return received, True


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def head_of(url: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {url} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {READ_TOKEN}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def test_a_real_server_refuses_oversized_requests_and_closes_the_connection(server):
    port, proc = server
    cases = [(head_of(url, headers), status, code) for url, headers, status, code in
             oversized_requests()]  # fmt: skip
    # A header that never ends: answered once the head passes the limit, not buffered.
    endless = b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: " + b"e" * (
        H11_MAX_INCOMPLETE_EVENT_SIZE + 70_000
    )
    cases.append((endless, 431, "header_fields_too_large"))
    for request, status, code in cases:
        raw, closed = exchange(port, request)
        assert closed, "the server kept the connection open"
        got, headers, body = parse(raw)
        assert got == status, raw[:300]
        assert headers["content-type"] == "application/json"
        assert int(headers["content-length"]) == len(body)
        assert "date" not in headers  # answered while uvicorn parsed it: no app ran
        error = json.loads(body)["error"]
        assert (error["code"], error["field"]) == (code, None)
        assert proc.poll() is None
    # The server is still well, and a request within the limits is answered.
    raw, _ = exchange(port, head_of("/events?limit=1", {"Connection": "close"}))
    assert parse(raw)[0] == 200
    long_cursor = head_of("/events?cursor=" + "A" * 10_000, {"Connection": "close"})
    assert json.loads(parse(exchange(port, long_cursor)[0])[2])["error"]["code"] == (
        "invalid_cursor"
    )


def test_a_real_server_counts_each_request_of_a_kept_alive_connection(server):
    """Requests on one connection are each within the limits: none is refused for the
    bytes of the ones before it."""
    port, _ = server
    filler = {"x-filler": "f" * (MAX_HEADER_BYTES // 2)}
    one = head_of("/events?limit=1", filler)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        statuses = []
        for _ in range(8):  # together far past every limit
            sock.sendall(one)
            raw = b""
            while b"\r\n\r\n" not in raw:
                raw += sock.recv(65536)
            status, headers, body = parse(raw)
            while len(body) < int(headers["content-length"]):
                body += sock.recv(65536)
            statuses.append(status)
    assert statuses == [200] * 8


# -- page size cap --------------------------------------------------------------------

BIG = 200_000  # characters of one huge value: a page of 1,000 such rows would be 200 MB
BIG_CONTACTS = [
    {"contact_id": f"c{i:02d}", "email": f"p{i}@example.org", "first_name": f"P{i}",
     "last_name": f"{i:02d}" + "n" * BIG, "lifecycle_stage": "active"}
    for i in range(14)
] + [{"contact_id": f"s{i}", "email": f"s{i}@example.org"} for i in range(3)]  # fmt: skip
BIG_EVENTS = [
    {"system_event_id": f"y{i:02d}", "contact_id": "c01" if i % 2 else f"c{i % 14:02d}",
     "event_name": "Form Reminder Sent", "actor": f"{i:02d}" + "a" * BIG,
     "occurred_at": f"2024-06-{1 + i % 28:02d}T08:00:00Z"}
    for i in range(30)
] + [
    # ties on the timestamp: the cursor's key must continue exactly after the last row
    {"system_event_id": f"t{i}", "contact_id": "c01", "event_name": "Tie", "actor": "a" * BIG,
     "occurred_at": "2024-06-10T08:00:00Z"}
    for i in range(7)
] + [
    # one item bigger than a whole page: served alone, and the walk goes on past it
    {"system_event_id": "huge", "contact_id": "c01", "event_name": "Huge",
     "actor": "h" * (PAGE_BYTES + 300_000), "occurred_at": "2024-01-01T00:00:00Z"},
    {"system_event_id": "last", "contact_id": "c01", "event_name": "Last", "actor": "x",
     "occurred_at": "2023-12-31T00:00:00Z"},
]  # fmt: skip
BIG_URLS = [
    "/events?event_type=system",
    "/events",
    "/events?event_name=Form%20Reminder%20Sent",
    "/contacts/c01/timeline",
    f"/contacts/needs-form?as_of={AS_OF}",
    "/contacts/gone-quiet?days=0&as_of=2025-01-01",
    "/contacts/gone-quiet?days=0&event_type=system&as_of=2025-01-01",
    "/contacts/channel-summary",
]


@pytest.fixture(scope="module")
def big_practice(tmp_path_factory):
    settings, _, _ = build_mirror(
        tmp_path_factory.mktemp("big"), {"contacts": BIG_CONTACTS, "system_events": BIG_EVENTS}
    )
    return settings


def walk(http: TestClient, url: str, limit: int) -> tuple[list[dict], list[bytes]]:
    """Every page of `url` (following next_cursor): (all items, each page's body)."""
    items: list[dict] = []
    bodies: list[bytes] = []
    cursor = None
    while True:
        sep = "&" if "?" in url else "?"
        page_url = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = http.get(page_url, headers=auth(READ))
        assert response.status_code == 200, response.text[:300]
        page = json.loads(response.content)
        bodies.append(response.content)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items, bodies
        assert page["items"], "a page with a next_cursor holds at least one item"
        assert len(bodies) < 1000


def item_key(item: dict) -> str:
    return item.get("source_record_id") or item["contact_id"]


@pytest.mark.parametrize("url", BIG_URLS)
@pytest.mark.parametrize("kept", [True, False], ids=["answer-kept", "answer-not-kept"])
def test_a_page_ends_early_at_the_size_cap_and_its_cursor_continues_it(big_practice, url, kept):
    app = make_app(big_practice)
    if not kept:  # needs-form, gone-quiet: every page computes the order from its cursor
        app.state.api.answers = AnswerCache(max_bytes=0)
    with TestClient(app) as http:
        items, bodies = walk(http, url, 1000)
        one_by_one, _ = walk(http, url, 1)  # pages of one item: never past the cap
    assert items == one_by_one  # the same rows, in the same order, none twice or missing
    keys = [item_key(item) for item in items]
    assert len(keys) == len(set(keys))
    for body in bodies:
        page = json.loads(body)
        if len(page["items"]) > 1:
            assert len(body) < PAGE_BYTES + 4096, (url, len(body))
        else:  # one item bigger than the cap on a page of its own
            assert len(page["items"]) == 1
    first = json.loads(bodies[0])
    if "channel-summary" in url:  # small items: one page
        assert len(bodies) == 1
        return
    assert len(bodies[0]) < 1.5 * 1024 * 1024
    assert first["next_cursor"] is not None
    assert len(bodies) >= 2
    if url.startswith("/events?event_type") or "timeline" in url:
        assert keys[-2:] == ["huge", "last"]
        assert json.loads(bodies[-2])["items"][0]["source_record_id"] == "huge"


def test_the_page_size_cap_counts_bytes_not_characters():
    plan = Plan.__new__(Plan)
    plan.item = 0
    rows = [("é" * 100,), ("é" * 100,), ("é" * 100,)]  # 200 bytes each (+1 comma)
    assert plan.fit(rows, 3, 450) == 2
    assert plan.fit(rows, 3, 150) == 1  # at least one, however large
    assert plan.fit(rows, 3, 10_000) == 3
    assert plan.fit(rows, 2, 10_000) == 2
