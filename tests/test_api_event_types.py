"""Event types are the mirror's: its latest ledger_builds row names them (`event_types`, a
JSON array in display order, and `profile`); older mirrors without those columns, or with
them null, have the flat five of the contract."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_api_support import AS_OF, READ, TestClient, auth, client_for, make_app

from contact_events.builder.core.config import Settings
from contact_events.builder.core.contract import EVENT_TYPES
from contact_events_client import ContactEventsAPIError

LORCHESTRA = ["form", "session", "email", "invoice", "payment", "refund"]


def with_build_columns(
    settings: Settings, name: str, profile: str | None, event_types: list[str] | None
) -> Settings:
    """A copy of the mirror whose latest ledger_builds row carries `profile` and
    `event_types` (the columns are added when the sync did not create them)."""
    path = Path(settings.mirror_path).with_name(name)
    shutil.copyfile(settings.mirror_path, path)
    con = sqlite3.connect(path)
    columns = {row[1] for row in con.execute("PRAGMA table_info(ledger_builds)")}
    if profile is None and event_types is None:  # a mirror whose build rows have no profile columns
        for column in ("profile", "event_types"):
            if column in columns:
                con.execute(f"ALTER TABLE ledger_builds DROP COLUMN {column}")
        con.commit()
        con.close()
        return settings.model_copy(update={"mirror_path": path})
    for column in ("profile", "event_types"):
        if column not in columns:
            con.execute(f"ALTER TABLE ledger_builds ADD COLUMN {column} TEXT")
    con.execute(
        "UPDATE ledger_builds SET profile = ?, event_types = ? "
        "WHERE rowid = (SELECT MAX(rowid) FROM ledger_builds)",
        (profile, None if event_types is None else json.dumps(event_types)),
    )
    con.commit()
    con.close()
    return settings.model_copy(update={"mirror_path": path})


def add_billing_events(settings: Settings) -> None:
    """Two invoices and a payment for Ada (c1), as a lorchestra build would have them."""
    con = sqlite3.connect(settings.mirror_path)
    rows = [
        ("c1", "ada@example.org", "invoice", "open", "stripe", "2024-06-10 09:00:00.000000",
         "stripe_invoice", "in_1", '{"amount_due": 12500, "currency": "usd"}'),
        ("c1", "ada@example.org", "invoice", "paid", "stripe", "2024-06-11 09:00:00.000000",
         "stripe_invoice", "in_2", '{"amount_due": 9000, "currency": "usd"}'),
        ("c1", "ada@example.org", "payment", "succeeded", "stripe",
         "2024-06-12 09:00:00.000000", "stripe_payment", "pi_1", '{"amount": 9000}'),
    ]  # fmt: skip
    con.executemany("INSERT INTO contact_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


@pytest.fixture
def lorchestra(practice: Settings) -> Settings:
    settings = with_build_columns(practice, "lorchestra.db", "lorchestra", LORCHESTRA)
    add_billing_events(settings)
    return settings


pytest_plugins = ["test_api_support"]


def test_status_reports_the_profile_and_its_event_types(lorchestra, practice):
    test_client, api = client_for(make_app(lorchestra))
    with test_client:
        status = api.status()
        assert status.profile == "lorchestra"
        assert status.event_types == LORCHESTRA
    test_client, api = client_for(make_app(practice))  # no such columns: flat
    with test_client:
        status = api.status()
        assert (status.profile, status.event_types) == ("flat", list(EVENT_TYPES))


def test_a_mirror_synced_before_profiles_means_the_flat_five(practice):
    settings = with_build_columns(practice, "nulls.db", None, None)
    test_client, api = client_for(make_app(settings))
    with test_client:
        assert api.status().event_types == list(EVENT_TYPES)
        counts = api.contact_summary("c3", as_of=AS_OF).counts
        assert list(counts) == list(EVENT_TYPES)


def test_counts_hold_every_type_of_the_set_in_order(lorchestra):
    test_client, api = client_for(make_app(lorchestra))
    with test_client:
        ada = api.contact_summary("c1", as_of=AS_OF)
        # Ada's message (x2) is not a lorchestra type: it is shown after the set, never
        # dropped, and the total counts it.
        assert list(ada.counts) == [*LORCHESTRA, "message"]
        assert ada.counts == {
            "form": 2, "session": 1, "email": 0, "invoice": 2, "payment": 1, "refund": 0,
            "message": 1,
        }  # fmt: skip
        assert ada.total == 7
        rows = api.channel_summary(as_of=AS_OF).items
        assert rows[0] == ada
        dee = next(r for r in rows if r.contact_id == "c4")
        assert dee.counts == dict.fromkeys(LORCHESTRA, 0) and dee.total == 0


def test_event_type_accepts_exactly_the_set(lorchestra):
    test_client, api = client_for(make_app(lorchestra))
    with test_client:
        invoices = api.timeline("c1", event_type="invoice").items
        assert [e.source_record_id for e in invoices] == ["in_2", "in_1"]
        assert invoices[0].payload == {"amount_due": 9000, "currency": "usd"}
        assert len(api.events(event_type="payment").items) == 1
        quiet = api.gone_quiet(1, event_type="invoice", as_of=AS_OF).items
        assert [(r.contact_id, r.last_event_type, r.last_event_name) for r in quiet] == [
            ("c1", "invoice", "paid")
        ]
        for call in (
            lambda: api.timeline("c1", event_type="message"),
            lambda: api.events(event_type="system"),
            lambda: api.gone_quiet(30, event_type="call"),
        ):
            with pytest.raises(ContactEventsAPIError) as err:
                call()
            error = err.value
            assert (error.status, error.code, error.field) == (
                400,
                "invalid_parameter",
                "event_type",
            )
            assert error.message.startswith("event_type: ")
            for name in LORCHESTRA:
                assert f"'{name}'" in error.message


def test_flat_mirror_refuses_a_lorchestra_type(http: TestClient):
    response = http.get("/events?event_type=invoice", headers=auth(READ))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "event_type"
    assert "'form', 'session', 'email', 'message' or 'system'" in error["message"]


def test_openapi_says_event_types_are_the_mirror_s(http: TestClient):
    schema = http.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    counts = components["ChannelSummaryRow"]["properties"]["counts"]
    assert counts["type"] == "object"
    assert counts["additionalProperties"] == {"type": "integer"}
    assert "GET /status" in counts["description"]
    for model, field in (("GoneQuietRow", "last_event_type"), ("LedgerEvent", "event_type")):
        prop = components[model]["properties"][field]
        assert prop["type"] == "string" and "enum" not in prop
        assert "mirror's event types" in prop["description"]
        assert "GET /status" in prop["description"]
    status = components["StatusResponse"]["properties"]
    assert status["event_types"]["type"] == "array" and status["profile"]["type"] == "string"
    parameters = schema["paths"]["/events"]["get"]["parameters"]
    event_type = next(p for p in parameters if p["name"] == "event_type")
    assert "enum" not in event_type["schema"] and "GET /status" in event_type["description"]
