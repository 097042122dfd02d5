"""Every route over a real mirror of the hand-written practice, answers checked row by row."""

from __future__ import annotations

import json

import pytest
from test_api_support import (
    AS_OF,
    DATA_URLS,
    READ,
    TestClient,
    as_sent,
    auth,
    ids,
    record_ids,
)

from contact_events_client import ContactEventsAPIError, ContactEventsClient
from contact_events_client.models import (
    ChannelSummaryPage,
    ChannelSummaryRow,
    EventPage,
    GoneQuietPage,
    LedgerEvent,
    NeedsFormPage,
    StatusResponse,
)

# Fixtures (practice, api, http) live in test_api_support.
pytest_plugins = ["test_api_support"]

# -- needs-form ------------------------------------------------------------------------


def test_needs_form_default_days_is_14_and_cutoff_is_strict(api: ContactEventsClient):
    # cut-off 2024-06-16T12:00Z: Bob's form is exactly there, so not "before" it.
    page = api.needs_form(as_of=AS_OF)
    assert isinstance(page, NeedsFormPage)
    assert as_sent(page) == {
        "items": [
            {"contact_id": "c4", "email": "dee@example.org", "first_name": "Dee",
             "last_name": "Dee", "last_form_at": None},
            {"contact_id": "c3", "email": "cy@example.org", "first_name": "Cy",
             "last_name": "Young", "last_form_at": "2024-05-01T00:00:00.000000Z"},
        ],
        "next_cursor": None,
    }  # fmt: skip
    assert api.needs_form(14, as_of=AS_OF) == page


def test_needs_form_one_day_less_includes_the_form_at_the_old_cutoff(api):
    page = api.needs_form(13, as_of=AS_OF)
    assert ids(page) == ["c4", "c3", "c2"]
    assert as_sent(page.items[2].last_form_at) == "2024-06-16T12:00:00.000000Z"


def test_needs_form_measure(api):
    # Eve has only a gad7: no phq9 at all, so she sorts with the nulls (by contact_id).
    page = api.needs_form(14, measure="phq9", as_of=AS_OF)
    assert [(r.contact_id, as_sent(r.last_form_at)) for r in page.items] == [
        ("c4", None),
        ("c5", None),
        ("c3", "2024-05-01T00:00:00.000000Z"),
    ]
    # Ada's gad7 is 29 days old, her phq9 10 days: gad7 with days=20 lists her.
    assert ids(api.needs_form(20, measure="gad7", as_of=AS_OF)) == ["c2", "c3", "c4", "c1"]


def test_needs_form_lifecycle_stage(api):
    assert ids(api.needs_form(14, lifecycle_stage="active", as_of=AS_OF)) == []
    assert ids(api.needs_form(14, measure="phq9", lifecycle_stage="active", as_of=AS_OF)) == ["c5"]
    # CONTRACT §5: a stage no contact has is a 400 naming the known ones, not an empty list.
    with pytest.raises(ContactEventsAPIError) as err:
        api.needs_form(14, lifecycle_stage="no-such-stage", as_of=AS_OF)
    assert (err.value.status, err.value.code, err.value.field) == (
        400,
        "invalid_parameter",
        "lifecycle_stage",
    )


def test_needs_form_as_of_ignores_later_events(api):
    # As of 2024-06-19: Ada's phq9 (06-20) and Eve's gad7 (06-28) have not happened yet.
    page = api.needs_form(14, as_of="2024-06-19T00:00:00Z")
    assert [(r.contact_id, as_sent(r.last_form_at)) for r in page.items] == [
        ("c4", None),
        ("c5", None),
        ("c3", "2024-05-01T00:00:00.000000Z"),
        ("c1", "2024-06-01T00:00:00.000000Z"),
    ]


def test_needs_form_days_zero_and_offsets(api):
    # days=0: cut-off = as_of; every form at or before as_of is "before" unless exactly at.
    assert ids(api.needs_form(0, as_of="2024-06-16T12:00:00Z")) == ["c4", "c5", "c3", "c1"]
    # The same instant written with an offset gives the same answer.
    assert api.needs_form(0, as_of="2024-06-16T14:00:00+02:00") == api.needs_form(
        0, as_of="2024-06-16T12:00:00Z"
    )


def test_an_unencoded_plus_in_an_offset_is_read_as_plus(http: TestClient):
    """`?as_of=...+02:00` pasted into a URL arrives as `... 02:00` (form decoding)."""
    pasted = "/contacts/needs-form?days=0&as_of=2024-06-16T14:00:00+02:00"
    encoded = "/contacts/needs-form?days=0&as_of=2024-06-16T14:00:00%2B02:00"
    utc = "/contacts/needs-form?days=0&as_of=2024-06-16T12:00:00Z"
    answers = [http.get(url, headers=auth(READ)) for url in (pasted, encoded, utc)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["items"]


# -- gone-quiet ------------------------------------------------------------------------


def test_gone_quiet_default_30_days_latest_event_tie_break(api):
    # Cy's latest instant has a form (measurement_events) and a reminder
    # (canonical.system_events): the first in event order is the reminder.
    page = api.gone_quiet(as_of=AS_OF)
    assert isinstance(page, GoneQuietPage)
    assert as_sent(page) == {
        "items": [
            {"contact_id": "c3", "email": "cy@example.org", "first_name": "Cy",
             "last_name": "Young", "last_event_at": "2024-05-01T00:00:00.000000Z",
             "last_event_type": "system", "last_event_name": "Form Reminder Sent"},
        ],
        "next_cursor": None,
    }  # fmt: skip
    assert api.gone_quiet(30, as_of=AS_OF) == page


def test_gone_quiet_by_event_type(api):
    sessions = api.gone_quiet(30, event_type="session", as_of=AS_OF)
    assert [
        (r.contact_id, as_sent(r.last_event_at), r.last_event_type, r.last_event_name)
        for r in sessions.items
    ] == [
        ("c3", "2024-03-01T09:00:00.000000Z", "session", "Session Cancelled"),
        ("c2", "2024-05-10T09:00:00.000000Z", "session", "Session Completed"),
    ]
    emails = api.gone_quiet(30, event_type="email", as_of=AS_OF)
    assert [(r.contact_id, r.last_event_name) for r in emails.items] == [
        ("c3", "inbound: Re: hello"),
        ("c2", "outbound: Reminder"),
    ]
    # days=0: the cut-off is as_of itself. Ada's latest message is exactly at it (x2, and
    # x3 one microsecond later does not count yet), so she is not quiet...
    assert ids(api.gone_quiet(0, event_type="message", as_of=AS_OF)) == ["c3"]
    assert ids(api.gone_quiet(0, event_type="message", as_of="2024-06-30T12:00:00.000001Z")) == [
        "c3"
    ]
    # ...until one microsecond after her last message.
    assert ids(api.gone_quiet(0, event_type="message", as_of="2024-06-30T12:00:00.000002Z")) == [
        "c3",
        "c1",
    ]


def test_gone_quiet_cutoff_is_strict(api):
    # as_of 05-31, days 30 -> cut-off 05-01T00:00Z, exactly Cy's latest event: not quiet.
    assert ids(api.gone_quiet(30, as_of="2024-05-31T00:00:00Z")) == []
    assert ids(api.gone_quiet(29, as_of="2024-05-31T00:00:00Z")) == ["c3"]


def test_gone_quiet_lifecycle_stage_and_no_events(api):
    assert ids(api.gone_quiet(30, lifecycle_stage="discharged", as_of=AS_OF)) == ["c3"]
    assert ids(api.gone_quiet(30, lifecycle_stage="active", as_of=AS_OF)) == []
    # Dee has no events at all: never "gone quiet", whatever the window.
    assert "c4" not in ids(api.gone_quiet(36500, as_of=AS_OF))
    assert ids(api.gone_quiet(0, as_of="2024-02-01T00:00:00Z")) == []
    assert ids(api.gone_quiet(0, as_of="2024-02-01T00:00:00.000001Z")) == ["c3"]


# -- channel summary and summary -------------------------------------------------------

ZERO = {"form": 0, "session": 0, "email": 0, "message": 0, "system": 0}
SUMMARY = {
    "c1": {"contact_id": "c1", "counts": {**ZERO, "form": 2, "session": 1, "message": 1},
           "total": 4, "last_activity_at": "2024-06-30T12:00:00.000000Z"},
    "c2": {"contact_id": "c2",
           "counts": {**ZERO, "form": 1, "session": 1, "email": 1, "system": 1},
           "total": 4, "last_activity_at": "2024-06-16T12:00:00.000000Z"},
    "c3": {"contact_id": "c3",
           "counts": {"form": 1, "session": 1, "email": 1, "message": 1, "system": 1},
           "total": 5, "last_activity_at": "2024-05-01T00:00:00.000000Z"},
    "c4": {"contact_id": "c4", "counts": ZERO, "total": 0, "last_activity_at": None},
    "c5": {"contact_id": "c5", "counts": {**ZERO, "form": 1, "session": 1},
           "total": 2, "last_activity_at": "2024-06-29T10:00:00.000000Z"},
}  # fmt: skip


def test_channel_summary(api):
    page = api.channel_summary(as_of=AS_OF)
    assert isinstance(page, ChannelSummaryPage)
    assert as_sent(page) == {"items": [SUMMARY[c] for c in ("c1", "c2", "c3", "c4", "c5")],
                                 "next_cursor": None}  # fmt: skip
    discharged = api.channel_summary(lifecycle_stage="discharged", as_of=AS_OF)
    assert [as_sent(row) for row in discharged.items] == [SUMMARY["c3"]]
    # Without as_of (now, years later) Ada's later form and message count too.
    now_c1 = api.channel_summary().items[0]
    assert now_c1.counts["form"] == 3 and now_c1.counts["message"] == 2
    assert as_sent(now_c1.last_activity_at) == "2024-07-05T00:00:00.000000Z"


def test_contact_summary(api):
    for contact_id, expected in SUMMARY.items():
        summary = api.contact_summary(contact_id, as_of=AS_OF)
        assert isinstance(summary, ChannelSummaryRow)
        assert as_sent(summary) == expected
    early = api.contact_summary("c3", as_of="2024-03-01T09:00:00Z")
    assert early.counts == {**ZERO, "session": 1, "email": 1, "message": 1}
    with pytest.raises(ContactEventsAPIError) as err:
        api.contact_summary("nobody")
    assert (err.value.status, err.value.code, err.value.field) == (404, "not_found", "contact_id")


# -- timeline --------------------------------------------------------------------------

S2 = {
    "contact_id": "c2",
    "contact_email": "bob@example.org",
    "event_type": "session",
    "event_name": "Session Completed",
    "event_source": "dataverse",
    "event_timestamp": "2024-05-10T09:00:00.000000Z",
    "source_system": "canonical.clinical_sessions",
    "source_record_id": "s2",
    "payload": {"idem_key": None, "session_num": 1},
}
E1 = {
    "contact_id": "c2",
    "contact_email": "bob@example.org",
    "event_type": "email",
    "event_name": "outbound: Reminder",
    "event_source": "gmail",
    "event_timestamp": "2024-05-10T09:00:00.000000Z",
    "source_system": "canonical.email_events",
    "source_record_id": "e1",
    "payload": {"direction": "outbound", "labels": ["SENT"], "subject": "Reminder",
                "thread_id": "t1"},
}  # fmt: skip


def test_timeline_all_columns_order_and_ties(api):
    page = api.timeline("c2", as_of=AS_OF)
    assert isinstance(page, EventPage) and isinstance(page.items[0], LedgerEvent)
    assert record_ids(page) == ["m3", "y1", "s2", "e1"]
    assert as_sent(page.items[2]) == S2
    assert as_sent(page.items[3]) == E1
    assert page.items[1].payload == {"actor": "bot"}
    assert page.next_cursor is None


def test_timeline_as_of_since_until(api):
    assert record_ids(api.timeline("c1")) == ["m6", "x3", "x2", "s1", "m1", "m2"]
    assert record_ids(api.timeline("c1", as_of=AS_OF)) == ["x2", "s1", "m1", "m2"]
    # since inclusive, until exclusive
    assert record_ids(
        api.timeline("c1", since="2024-06-20T12:00:00Z", until="2024-06-30T12:00:00Z")
    ) == ["s1", "m1"]
    assert record_ids(
        api.timeline("c1", since="2024-06-20T12:00:00.000001Z", until="2024-06-30T12:00:00.000001Z")
    ) == ["x2", "s1"]
    assert record_ids(api.timeline("c1", since="2024-07-01", until="2024-07-01")) == []


def test_timeline_event_type_and_empty(api):
    assert record_ids(api.timeline("c1", event_type="form")) == ["m6", "m1", "m2"]
    assert record_ids(api.timeline("c1", event_type="email")) == []  # known contact: 200
    assert as_sent(api.timeline("c4")) == {"items": [], "next_cursor": None}
    with pytest.raises(ContactEventsAPIError) as err:
        api.timeline("nobody")
    assert err.value.status == 404
    with pytest.raises(ContactEventsAPIError):
        api.timeline("nobody", event_type="form")


def test_orphans_only_in_events(api):
    everything = api.events(as_of=AS_OF)
    assert {"m5", "y2"} <= set(record_ids(everything))
    orphans = [i for i in everything.items if i.contact_id is None]
    assert sorted(i.source_record_id for i in orphans) == ["m5", "y2"]
    assert orphans[0].contact_email in ("nobody@example.org", "ghost@example.org")
    for contact in ("c1", "c2", "c3", "c4", "c5"):
        assert None not in ids(api.timeline(contact))
    summed = sum(r.total for r in api.channel_summary(as_of=AS_OF).items)
    assert summed == len(everything.items) - 2


# -- events ----------------------------------------------------------------------------


def test_events_all_newest_first(api):
    page = api.events(as_of=AS_OF)
    assert record_ids(page) == [
        "x2", "s4", "m7", "s1", "m5", "m1", "m3", "y2", "y1", "m2",
        "s2", "e1", "y3", "m4", "s3", "e2", "x1",
    ]  # fmt: skip
    assert page.next_cursor is None
    assert record_ids(api.events())[:2] == ["m6", "x3"]


def test_events_filters(api):
    reminders = api.events(event_name="Form Reminder Sent")
    assert record_ids(reminders) == ["y2", "y1", "y3"]
    assert record_ids(api.events(event_name="Form Reminder Sent", contact_id="c2")) == ["y1"]
    assert record_ids(api.events(event_type="email")) == ["e1", "e2"]
    assert record_ids(api.events(event_source="outlook")) == ["e2"]
    assert record_ids(api.events(event_type="system", event_source="life_cli")) == [
        "y2", "y1", "y3"
    ]  # fmt: skip
    assert record_ids(api.events(contact_id="c2", as_of=AS_OF)) == ["m3", "y1", "s2", "e1"]
    assert as_sent(api.events(contact_id="c2", as_of=AS_OF).items[2]) == S2
    assert record_ids(api.events(since="2024-05-01T00:00:00Z", until="2024-05-10T09:00:00Z")) == [
        "y3",
        "m4",
    ]
    one_instant = api.events(since="2024-05-10T09:00:00Z", until="2024-05-10T09:00:00.000001Z")
    assert record_ids(one_instant) == ["s2", "e1"]
    assert as_sent(api.events(contact_id="nobody")) == {"items": [], "next_cursor": None}
    assert api.events(event_name="no such event").items == []


# -- headers, status, health -----------------------------------------------------------


def test_data_responses_carry_build_headers(http):
    status = http.get("/status", headers=auth()).json()
    built_at = status["build"]["built_at"]
    for url in (*DATA_URLS, "/status"):
        response = http.get(url, headers=auth())
        assert response.status_code == 200, url
        assert response.headers["X-Ledger-Built-At"] == built_at
        assert response.headers["X-Ledger-Build-Id"] == status["build"]["build_id"]
        assert built_at.endswith("Z")


def test_status(api, practice):
    status = api.status()
    assert isinstance(status, StatusResponse)
    build = status.build
    assert build.ledger_rows == 19 and build.contacts_rows == 5
    assert build.rejects_rows == 2 and build.error_rejects == 0
    assert build.warehouse == "duckdb"
    assert build.validation is None
    assert build.built_at.tzinfo is not None and build.synced_at.tzinfo is not None
    assert isinstance(build.rejects_by_reason, dict)
    assert build.rows_by_source["measurement_events"] == 7
    assert status.rows_by_source == {
        "measurement_events": 7,
        "canonical.clinical_sessions": 4,
        "canonical.email_events": 2,
        "canonical.messages": 3,
        "canonical.system_events": 3,
    }
    assert status.rejects_by_reason == {
        "missing_record_id": 0,
        "missing_timestamp": 0,
        "bad_timestamp": 0,
        "unknown_contact_id": 0,
        "ambiguous_email": 0,
        "orphan": 2,
    }
    assert 0 <= status.mirror_age_seconds < 600


def test_status_parses_validation_json(mirror_factory):
    from test_api_support import PRACTICE_TABLES, client_for, make_app

    from contact_events.builder.pipeline import rebuild

    settings, _, _ = mirror_factory(PRACTICE_TABLES)
    rebuild(settings, check=lambda path: {"ok": True, "mismatches": []})
    test_client, client = client_for(make_app(settings))
    with test_client:
        assert client.status().build.validation == {"ok": True, "mismatches": []}


def test_health_needs_no_token(http):
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "mirror_available": True, "mirror_verified": True}


def test_no_mirror_is_503_everywhere(tmp_path):
    from test_api_support import make_app

    from contact_events.builder.core.config import Settings

    settings = Settings(mirror_path=tmp_path / "missing.db", duckdb_path=tmp_path / "w.duckdb")
    with TestClient(make_app(settings)) as http:
        assert http.get("/health").json() == {
            "status": "ok",
            "mirror_available": False,
            "mirror_verified": False,
        }
        for url in (
            "/status",
            "/contacts/needs-form",
            "/contacts/gone-quiet",
            "/contacts/channel-summary",
            "/contacts/c1/summary",
            "/contacts/c1/timeline",
            "/events",
            "/events?contact_id=c1",
        ):
            response = http.get(url, headers=auth(READ))
            assert response.status_code == 503, url
            error = response.json()["error"]
            assert error["code"] == "mirror_unavailable"
            assert "does not exist yet" in error["message"]
        # Bad input is still a 400 first, and auth a 401.
        assert http.get("/contacts/needs-form?days=-1", headers=auth()).status_code == 400
        assert http.get("/status").status_code == 401


def test_corrupt_mirror_is_503(practice):
    from test_api_support import make_app, write_corrupt

    write_corrupt(practice.mirror_path)
    with TestClient(make_app(practice)) as http:
        response = http.get("/contacts/c1/timeline", headers=auth())
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "mirror_unavailable"
        assert http.get("/health").json()["mirror_available"] is False


def test_openapi_documents_the_contract(http):
    schema = http.get("/openapi.json").json()
    assert http.get("/docs").status_code == 200
    operations = {
        (method.upper(), path): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    assert set(operations) == {
        ("GET", "/contacts/needs-form"),
        ("GET", "/contacts/gone-quiet"),
        ("GET", "/contacts/no-session"),
        ("GET", "/contacts/channel-summary"),
        ("GET", "/contacts/{contact_id}/summary"),
        ("GET", "/contacts/{contact_id}/timeline"),
        ("GET", "/events"),
        ("GET", "/status"),
        ("POST", "/rebuild"),
        ("GET", "/rebuild/{job_id}"),
        ("GET", "/health"),
    }
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text and '"422"' not in text
    for key, op in operations.items():
        if key == ("GET", "/health"):
            assert "security" not in op
            continue
        assert {"400", "401"} <= set(op["responses"]), key
        assert op["security"] == [{"HTTPBearer": []}]
        assert op["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
    assert set(operations[("POST", "/rebuild")]["responses"]) >= {"202", "403"}
    for path in ("/contacts/{contact_id}/summary", "/contacts/{contact_id}/timeline"):
        assert "404" in operations[("GET", path)]["responses"]
    timeline = {
        p["name"]: p for p in operations[("GET", "/contacts/{contact_id}/timeline")]["parameters"]
    }
    assert "inclusive" in timeline["since"]["description"]
    assert "exclusive" in timeline["until"]["description"]
    limit = timeline["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 1000, 100)
    days = {p["name"]: p for p in operations[("GET", "/contacts/needs-form")]["parameters"]}["days"]
    assert (days["schema"]["minimum"], days["schema"]["maximum"]) == (0, 36500)
    assert days["schema"]["default"] == 14
    components = schema["components"]["schemas"]
    for model in ("NeedsFormPage", "GoneQuietPage", "ChannelSummaryRow", "LedgerEvent",
                  "StatusResponse", "RebuildJob", "ErrorResponse", "HealthResponse"):  # fmt: skip
        assert components[model].get("examples"), model


def test_a_payload_that_is_not_an_object_is_wrapped(practice):
    """sync always writes an object; anything else in a mirror still answers, wrapped."""
    import sqlite3

    from test_api_support import client_for, make_app

    con = sqlite3.connect(practice.mirror_path)
    for record, payload in (("s1", "[1, 2]"), ("m1", "not json"), ("m2", '"text"'),
                            ("x2", ' {"a": 1} ')):  # fmt: skip
        con.execute(
            "UPDATE contact_events SET payload = ? WHERE source_record_id = ?", (payload, record)
        )
    con.commit()
    con.close()
    test_client, api = client_for(make_app(practice))
    with test_client:
        payloads = {e.source_record_id: e.payload for e in api.timeline("c1").items}
    assert payloads["s1"] == {"value": [1, 2]}
    assert payloads["m1"] == {"value": None}
    assert payloads["m2"] == {"value": "text"}
    assert payloads["x2"] == {"a": 1}
    assert payloads["m6"] == {
        "binding_id": None, "binding_version": None, "form_id": None,
        "form_submission_id": None, "measure_version": None,
    }  # fmt: skip
