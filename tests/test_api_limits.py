"""Issue 12 item 8, the API's limits: failed authentication rate-limited per client
address (429 with Retry-After), the URL and the header fields capped (414/431), each
answered in the JSON error shape."""

from __future__ import annotations

import pytest
from test_api_fastpath import strip_middleware
from test_api_support import ADMIN, READ, TestClient, auth, make_app

from app.auth import FailureLimiter

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
    from app.main import settings_from_environment
    from builder.errors import ConfigError

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
