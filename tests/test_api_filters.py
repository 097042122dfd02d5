"""Filters that match nothing known, since after until, and the one timestamp grammar
(CONTRACT §5).

A `measure` no form event in the mirror has, or a `lifecycle_stage` no contact has, is a
400 naming the known values, so a typo never answers "every contact"; `allow_unseen=true`
asks for such a value on purpose. `since` later than `until` is a 400. `as_of`, `since`
and `until` are read by the contract's grammar (`builder.core.timestamps.parse_timestamp`).
"""

from __future__ import annotations

import pytest
from test_api_support import AS_OF, PRACTICE_TABLES, TestClient, auth, make_app

from contact_events.app.canned import handler as answer_module
from contact_events.app.core.timestamps import parse_request_timestamp

pytest_plugins = ["test_api_support"]


def error_of(http: TestClient, url: str) -> dict:
    response = http.get(url, headers=auth())
    assert response.status_code == 400, (url, response.text)
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    return error


def items(http: TestClient, url: str) -> list[str]:
    response = http.get(url, headers=auth())
    assert response.status_code == 200, (url, response.text)
    return [item["contact_id"] for item in response.json()["items"]]


def test_an_unseen_measure_is_400_naming_the_known_ones(http: TestClient):
    # Before: every contact "needed" a phq8 nobody ever submitted (a reminder to everyone).
    error = error_of(http, f"/contacts/needs-form?measure=phq8&as_of={AS_OF}")
    assert error["field"] == "measure"
    assert error["message"].startswith("measure:")
    assert "'phq8'" in error["message"]
    assert "known: 'gad7', 'phq9'" in error["message"]
    assert "allow_unseen=true" in error["message"]
    # Known measures are any form's, at any time: one after as_of still counts as known.
    assert items(http, f"/contacts/needs-form?measure=phq9&as_of={AS_OF}") == ["c4", "c5", "c3"]


def test_allow_unseen_asks_for_a_new_measure_on_purpose(http: TestClient):
    url = f"/contacts/needs-form?measure=phq8&allow_unseen=true&as_of={AS_OF}"
    assert items(http, url) == ["c1", "c2", "c3", "c4", "c5"]  # nobody has one yet
    assert items(http, url.replace("=true", "=TRUE")) == ["c1", "c2", "c3", "c4", "c5"]
    # false is the default: the same 400
    error_of(http, url.replace("=true", "=false"))
    # A known value answers the same with or without it.
    known = f"/contacts/needs-form?measure=phq9&as_of={AS_OF}"
    assert items(http, known + "&allow_unseen=true") == items(http, known)


@pytest.mark.parametrize(
    "route", ["/contacts/needs-form", "/contacts/gone-quiet", "/contacts/channel-summary"]
)
def test_an_unseen_lifecycle_stage_is_400_on_every_route_that_takes_one(
    http: TestClient, route: str
):
    error = error_of(http, f"{route}?lifecycle_stage=Active&as_of={AS_OF}")
    assert error["field"] == "lifecycle_stage"
    assert "known: 'active', 'discharged', 'lead'" in error["message"]
    assert items(http, f"{route}?lifecycle_stage=Active&allow_unseen=true&as_of={AS_OF}") == []
    http.get(f"{route}?lifecycle_stage=active&as_of={AS_OF}", headers=auth()).raise_for_status()


def test_the_known_values_come_from_the_mirror_once_per_build(practice, monkeypatch):
    runs = []
    real = answer_module._known_values
    monkeypatch.setattr(answer_module, "_known_values", lambda db: runs.append(1) or real(db))
    with TestClient(make_app(practice)) as http:
        for _ in range(3):
            items(http, "/contacts/needs-form?measure=phq9&lifecycle_stage=active")
            error_of(http, "/contacts/gone-quiet?lifecycle_stage=nope")
        items(http, "/contacts/needs-form")  # no such filter: not even looked up
        assert len(runs) == 1


def test_the_message_lists_at_most_twenty_known_values(mirror_factory):
    contacts = [{"contact_id": f"k{i:02d}", "email": f"k{i}@example.org"} for i in range(3)]
    forms = [
        {"measurement_event_id": f"m{i}", "subject_id": "k0@example.org",
         "measure_id": f"measure-{i:02d}", "timestamp": "2024-01-01T00:00:00Z"}
        for i in range(45)
    ]  # fmt: skip
    settings, _, _ = mirror_factory({"contacts": contacts, "measurement_events": forms})
    with TestClient(make_app(settings)) as http:
        message = error_of(http, "/contacts/needs-form?measure=phq9")["message"]
    assert "'measure-00'" in message and "'measure-19'" in message
    assert "'measure-20'" not in message
    assert "and 25 more" in message


def test_a_mirror_without_forms_or_stages_knows_none(mirror_factory):
    settings, _, _ = mirror_factory({"contacts": [{"contact_id": "k1", "email": "k@x.org"}]})
    with TestClient(make_app(settings)) as http:
        assert (
            "the mirror has none" in error_of(http, "/contacts/needs-form?measure=phq9")["message"]
        )
        assert items(http, "/contacts/needs-form?measure=phq9&allow_unseen=1") == ["k1"]


@pytest.mark.parametrize("route", ["/contacts/c1/timeline", "/events"])
def test_since_later_than_until_is_400(http: TestClient, route: str):
    error = error_of(http, f"{route}?since=2024-06-02&until=2024-06-01T23:59:59.999999Z")
    assert error["field"] == "since"
    assert "later than until" in error["message"]
    assert "2024-06-02T00:00:00.000000Z" in error["message"]
    # Equal is a valid, empty window (since inclusive, until exclusive).
    response = http.get(f"{route}?since=2024-06-02&until=2024-06-02", headers=auth())
    assert response.status_code == 200 and response.json()["items"] == []


def test_since_after_until_is_400_before_the_mirror_is_read(tmp_path):
    from contact_events.builder.core.config import Settings

    settings = Settings(mirror_path=tmp_path / "none.db", duckdb_path=tmp_path / "w.duckdb")
    with TestClient(make_app(settings)) as http:
        error_of(http, "/events?since=2024-02-01&until=2024-01-01")
        assert http.get("/events", headers=auth()).status_code == 503


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00+15:00",
        "2024-01-01T00:00:00+14:30",
        "2024-01-01T00:00:00-14:01",
        "2024-01-01T00:00:00+0200",
        "2024-01-01T00:00",
        "2024-01-01T00:00:00 2:00",
        "2024-05-01 09:30 02:00",
    ],
)
def test_offsets_and_forms_outside_the_grammar_are_refused(text):
    with pytest.raises(ValueError):
        parse_request_timestamp(text)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-05-01T09:30:00+14:00", "2024-04-30T19:30:00+00:00"),
        ("2024-05-01T09:30:00-14:00", "2024-05-01T23:30:00+00:00"),
        # the documented convenience: an offset's `+` that arrived as a space
        ("2024-05-01T09:30:00 02:00", "2024-05-01T07:30:00+00:00"),
        ("2024-05-01 09:30:00.5 02:00", "2024-05-01T07:30:00.500000+00:00"),
        (" 2024-05-01t09:30:00z\n", "2024-05-01T09:30:00+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
        ("2024-05-01T09:30:00.1234567891Z", "2024-05-01T09:30:00.123456+00:00"),
    ],
)
def test_the_grammar_and_the_space_for_plus(text, utc):
    assert parse_request_timestamp(text).isoformat() == utc


def test_a_plus_sent_unencoded_reads_as_plus(http: TestClient):
    # httpx would encode a literal "+"; send the raw query string as a browser paste would.
    raw = http.get("/events?as_of=2024-06-30T14:00:00+02:00&limit=1", headers=auth())
    encoded = http.get("/events?as_of=2024-06-30T12:00:00Z&limit=1", headers=auth())
    assert raw.status_code == 200, raw.text
    assert raw.json() == encoded.json()


def test_the_old_app_parser_is_gone():
    import contact_events.app.core.timestamps as ts

    assert not hasattr(ts, "parse_rfc3339")
    assert not hasattr(ts, "_RFC3339")


def test_allow_unseen_is_declared_on_the_routes_with_those_filters(http: TestClient):
    schema = http.get("/openapi.json").json()
    for path, item in schema["paths"].items():
        names = {p["name"] for p in item.get("get", {}).get("parameters", [])}
        if {"measure", "lifecycle_stage"} & names:
            assert "allow_unseen" in names, path
            flag = next(p for p in item["get"]["parameters"] if p["name"] == "allow_unseen")
            assert flag["schema"] == {"type": "boolean", "default": False}
        else:
            assert "allow_unseen" not in names, path


def test_practice_tables_are_what_these_tests_assume():
    measures = {r["measure_id"] for r in PRACTICE_TABLES["measurement_events"]}
    assert measures == {"phq9", "gad7"}
