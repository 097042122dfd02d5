"""Bad input anywhere -> a 4xx JSON error naming the parameter, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from test_api_support import (
    TestClient,
    auth,
    make_app,
)

# Fixtures (practice, api, http) live in test_api_support.
pytest_plugins = ["test_api_support"]

LIST_ROUTES = {
    "/contacts/needs-form": {
        "days", "measure", "lifecycle_stage", "allow_unseen", "as_of", "limit", "cursor",
    },
    "/contacts/gone-quiet": {
        "days", "event_type", "lifecycle_stage", "allow_unseen", "as_of", "limit", "cursor",
    },
    "/contacts/channel-summary": {"lifecycle_stage", "allow_unseen", "as_of", "limit", "cursor"},
    "/contacts/c1/timeline": {"event_type", "since", "until", "as_of", "limit", "cursor"},
    "/events": {
        "contact_id", "event_type", "event_name", "event_source",
        "since", "until", "as_of", "limit", "cursor",
    },
    "/contacts/c1/summary": {"as_of"},
}  # fmt: skip

BAD_VALUES: dict[str, list[str]] = {
    "days": ["abc", "-1", "36501", "1.5", "", "99999999999999999999999", "1e3", "0x10"],
    "limit": ["0", "1001", "-5", "x", "", "2.5"],
    "as_of": [
        "garbage", "2024-13-01", "2024-02-30T00:00:00Z", "2024-01-01T10:00",
        "1700000000", "", "2024-01-01T00:00:00+25:00", "2024-01-01T24:00:00Z",
        "0001-01-01T00:00:00+01:00", "2024-01-01Z", "٢٠٢٤-01-01",
        "2024-01-01 10:00", "2024-01-01T10:00:00  02:00", "2024-01-01 02:00",
        "2024-01-01T00:00:00+15:00", "2024-01-01T00:00:00+14:30", "2024-01-01T00:00:00 14:30",
        "2024-01-01T00:00:00+0200", "2024-01-01T00:00:60Z",
    ],
    "allow_unseen": ["yes", "", "2", "truth"],
    "event_type": ["call", "FORM", "", "form,email"],
    "measure": ["", "x" * 501],
    "lifecycle_stage": ["", "x" * 501],
    "event_name": ["", "x" * 501],
    "event_source": ["", "x" * 501],
    "contact_id": ["", "x" * 501],
    "cursor": ["", "garbage", "x" * 13000],
}  # fmt: skip
BAD_VALUES["since"] = BAD_VALUES["as_of"]
BAD_VALUES["until"] = BAD_VALUES["as_of"]


def assert_error(response: Any, status: int, code: str, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code
    assert body["error"]["field"] == field
    assert body["error"]["message"]
    return body["error"]


def test_every_bad_value_of_every_parameter_is_400(http: TestClient):
    checked = 0
    for route, params in LIST_ROUTES.items():
        for param in sorted(params):
            for value in BAD_VALUES[param]:
                response = http.get(route, params={param: value}, headers=auth())
                code = "invalid_cursor" if param == "cursor" else "invalid_parameter"
                error = assert_error(response, 400, code, param)
                assert error["message"].startswith(f"{param}:"), (route, param, value)
                checked += 1
    assert checked > 150


def test_messages_say_what_was_wrong(http: TestClient):
    def message(url: str) -> str:
        return http.get(url, headers=auth()).json()["error"]["message"]

    assert "36500" in message("/contacts/needs-form?days=99999")
    assert "greater than or equal to 0" in message("/contacts/gone-quiet?days=-3")
    assert "1000" in message("/events?limit=1001")
    assert "'form'" in message("/events?event_type=call")
    # The contract's one timestamp grammar (builder.core.timestamps): the message names the part.
    assert "date must come first as YYYY-MM-DD" in message("/events?since=yesterday")
    assert "real date" in message("/events?until=2024-02-30T00:00:00Z")
    assert "offset must be between -14:00 and +14:00" in message(
        "/events?as_of=2024-01-01T00:00:00%2B15:00"
    )
    assert "offset must be between" in message("/events?as_of=2024-01-01T00:00:00%2B14:30")
    assert "hours run 00-23" in message("/events?as_of=2024-01-01T24:00:00Z")
    assert "a time HH:MM:SS" in message("/events?as_of=2024-01-01T10:00")


def test_unknown_and_repeated_parameters_are_400(http: TestClient):
    error = assert_error(
        http.get("/contacts/needs-form?day=14", headers=auth()), 400, "unknown_parameter", "day"
    )
    assert "days" in error["message"]  # lists what the route takes
    assert_error(
        http.get("/contacts/needs-form?days=1&days=2", headers=auth()),
        400,
        "duplicate_parameter",
        "days",
    )
    for url in (
        "/status?verbose=1",
        "/contacts/c1/summary?days=3",
        "/contacts/c1/timeline?event_name=x",
        "/contacts/channel-summary?days=3",
        "/events?type=form",
    ):
        response = http.get(url, headers=auth())
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_parameter"
    # /health stays lenient: load balancers add cache busters.
    assert http.get("/health?probe=1").status_code == 200


def test_auth_comes_before_input_errors(http: TestClient):
    assert http.get("/contacts/needs-form?days=-1").status_code == 401
    assert http.get("/events?bogus=1").status_code == 401
    assert http.post("/rebuild?bogus=1").status_code == 401
    assert http.get("/rebuild/abc?bogus=1").status_code == 401
    assert http.post("/rebuild?bogus=1", headers=auth()).status_code == 403  # read token


def test_extreme_but_valid_values(http: TestClient):
    for url in (
        "/contacts/needs-form?days=36500&as_of=0001-01-01T00:00:00Z",
        "/contacts/gone-quiet?days=36500&as_of=0001-01-01",
        "/contacts/needs-form?days=0&as_of=9999-12-31T23:59:59.999999Z",
        "/events?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
        "/events?as_of=2024-01-01T00:00:00.123456789Z",
        "/events?limit=1000",
        "/contacts/c1/timeline?since=2024-01-01&until=2024-01-01",
        "/contacts/needs-form?measure=%00%27%3B%20DROP%20TABLE%20contacts%3B--&allow_unseen=true",
        "/events?event_name=%F0%9F%92%A5&contact_id=%E2%80%AE",
        "/contacts/c1/timeline?as_of=2024-06-30t12:00:00z",
        "/contacts/c1/summary?as_of=2024-06-30 12:00:00",
    ):
        response = http.get(url, headers=auth())
        assert response.status_code == 200, (url, response.text)
        assert "items" in response.json() or "counts" in response.json()
    assert (
        http.get("/contacts/needs-form?days=36500&as_of=0001-01-01", headers=auth()).json()[
            "items"
        ][0]["last_form_at"]
        is None
    )


def test_unknown_contact_job_and_route_are_404_json(http: TestClient):
    assert_error(http.get("/contacts/zz/summary", headers=auth()), 404, "not_found", "contact_id")
    assert_error(http.get("/contacts/zz/timeline", headers=auth()), 404, "not_found", "contact_id")
    assert_error(http.get("/contacts/%2F..%2Fetc/timeline", headers=auth()), 404, "not_found", None)
    assert_error(http.get("/nowhere", headers=auth()), 404, "not_found", None)
    assert_error(
        http.get("/contacts/" + "x" * 501 + "/summary", headers=auth()),
        400,
        "invalid_parameter",
        "contact_id",
    )


def test_wrong_method_is_405_json(http: TestClient):
    assert_error(http.post("/events", headers=auth()), 405, "method_not_allowed", None)
    assert_error(http.delete("/rebuild", headers=auth()), 405, "method_not_allowed", None)


def test_unexpected_error_is_a_bare_500(practice):
    app = make_app(practice)

    async def boom() -> None:
        raise RuntimeError("secret detail: /srv/data and a token")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=True) as http:
        response = http.get("/boom")
    error = assert_error(response, 500, "internal_error", None)
    assert "secret" not in response.text and "token" not in error["message"]


def test_query_time_limit_is_504(tmp_path):
    from conftest import build_mirror

    contacts = [{"contact_id": f"k{i:05d}", "email": f"k{i}@example.org"} for i in range(4000)]
    sessions = [
        {"session_id": f"s{i}", "contact_id": f"k{i % 4000:05d}", "started_at": "2024-01-01"}
        for i in range(8000)
    ]
    settings, _, _ = build_mirror(tmp_path, {"contacts": contacts, "clinical_sessions": sessions})
    with TestClient(make_app(settings, query_time_limit_ms=1)) as http:
        response = http.get("/contacts/needs-form?days=1", headers=auth())
        error = assert_error(response, 504, "query_timeout", None)
        assert "too long" in error["message"]
    with TestClient(make_app(settings)) as http:  # the default limit is plenty
        assert http.get("/contacts/needs-form?days=1", headers=auth()).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/contacts/needs-form", "/contacts/c1/timeline", "/events", "/status", "/rebuild/x"],
)
def test_error_bodies_are_json_for_any_accept_header(http: TestClient, url: str):
    response = http.get(url, headers={"Accept": "text/html"})
    assert_error(response, 401, "unauthorized", None)
