"""messages -> ledger (CONTRACT §2): event_name '<direction>: <channel>' ('unknown' for
anything else), identity contact_id else contact_email, event_source respond_io."""

from __future__ import annotations

from conftest import assert_rejects, by_record_id, ledger, mirror_fixture, warehouse_ledger

SYSTEM = "canonical.messages"

CONTACTS = [
    {"contact_id": "c1", "email": " Ann@Example.org ", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": "bob@example.org", "lifecycle_stage": "active"},
    {"contact_id": "c3", "email": "shared@example.org", "lifecycle_stage": "active"},
    {"contact_id": "c4", "email": " SHARED@example.org", "lifecycle_stage": "discharged"},
]


def msg(record_id, **fields):
    base = {
        "message_id": record_id,
        "channel": "sms",
        "direction": "outbound",
        "sent_at": "2024-03-01T10:00:00Z",
        "created_at": "2024-03-01T10:00:01Z",
    }
    base.update(fields)
    return base


ROWS = [
    msg("m01", contact_id="c1", body_preview="See you Friday", sent_at="2024-03-01T10:00:00+02:00"),
    msg("m02", channel="whatsapp", direction="inbound", contact_email=" BOB@example.org "),
    msg("m03", contact_id="c1", contact_email="Other@Example.org", body_preview=""),
    msg("m04", contact_id="", contact_email="ann@example.org"),  # '' id = none: use the email
    msg("m05", channel=None, contact_id="c2"),
    msg("m06", channel="", direction="inbound", contact_id="c2"),
    msg("m07", channel="whatsapp", contact_email="nobody@example.org"),  # orphan
    msg("m08", direction="inbound"),  # no id and no email: orphan
    msg("m09", contact_id="c404", contact_email="ann@example.org"),  # no fall-back to email
    msg("m10", contact_email="Shared@Example.org"),  # two contacts: ambiguous
    msg("m11", contact_id="c1", sent_at=None, created_at="2024-03-01T10:00:00Z"),
    # direction normalisation (event_name only; payload keeps what the source had)
    msg("d1", direction=" INBOUND ", contact_id="c1"),
    msg("d2", direction="Outbound", contact_id="c1"),
    msg("d3", direction="sideways", contact_id="c1"),
    msg("d4", direction="", contact_id="c1"),
    msg("d5", direction=None, contact_id="c1"),
]


def message(record_id, contact_id, addr, name, ts="2024-03-01 10:00:00.000000", **pl):
    return {
        "contact_id": contact_id,
        "contact_email": addr,
        "event_type": "message",
        "event_name": name,
        "event_source": "respond_io",
        "event_timestamp": ts,
        "source_system": SYSTEM,
        "source_record_id": record_id,
        "payload": {k: pl.get(k) for k in ("body_preview", "channel", "direction")},
    }


ANN, BOB = "ann@example.org", "bob@example.org"
EXPECTED_LEDGER = {
    "m01": message("m01", "c1", ANN, "outbound: sms", "2024-03-01 08:00:00.000000",
                   body_preview="See you Friday", channel="sms", direction="outbound"),
    "m02": message("m02", "c2", BOB, "inbound: whatsapp", channel="whatsapp", direction="inbound"),
    "m03": message("m03", "c1", "other@example.org", "outbound: sms", channel="sms",
                   direction="outbound"),
    "m04": message("m04", "c1", ANN, "outbound: sms", channel="sms", direction="outbound"),
    "m05": message("m05", "c2", BOB, "outbound: unknown", direction="outbound"),
    "m06": message("m06", "c2", BOB, "inbound: unknown", direction="inbound"),
    "m07": message("m07", None, "nobody@example.org", "outbound: whatsapp", channel="whatsapp",
                   direction="outbound"),
    "m08": message("m08", None, None, "inbound: sms", channel="sms", direction="inbound"),
}  # fmt: skip

EXPECTED_NAMES = {
    "d1": "inbound: sms",
    "d2": "outbound: sms",
    "d3": "unknown: sms",
    "d4": "unknown: sms",
    "d5": "unknown: sms",
}

EXPECTED_REJECTS = {
    (SYSTEM, "m07", "warning", "orphan"),
    (SYSTEM, "m08", "warning", "orphan"),
    (SYSTEM, "m09", "error", "unknown_contact_id"),
    (SYSTEM, "m10", "error", "ambiguous_email"),
    (SYSTEM, "m11", "error", "missing_timestamp"),
}


mirror = mirror_fixture("messages", {"contacts": CONTACTS, "messages": ROWS})


def test_every_ledger_column_of_every_message_row(mirror):
    con, _, _ = mirror
    got = by_record_id(ledger(con))
    assert {k: v for k, v in got.items() if k.startswith("m")} == EXPECTED_LEDGER


def test_event_name_direction_is_normalised_and_unknown_otherwise(mirror):
    con, _, _ = mirror
    got = by_record_id(ledger(con))
    assert {k: got[k]["event_name"] for k in EXPECTED_NAMES} == EXPECTED_NAMES
    for k in EXPECTED_NAMES:
        assert (got[k]["contact_id"], got[k]["contact_email"]) == ("c1", ANN)
        assert got[k]["event_source"] == "respond_io"


def test_rejects_and_orphans(mirror):
    con, report, _ = mirror
    assert_rejects(con, EXPECTED_REJECTS)
    assert report.ledger_rows[SYSTEM] == len(EXPECTED_LEDGER) + len(EXPECTED_NAMES)


def test_payload_text_is_compact_with_sorted_keys(mirror):
    con, _, _ = mirror
    texts = dict(con.execute("SELECT source_record_id, payload FROM contact_events"))
    assert (
        texts["m01"] == '{"body_preview":"See you Friday","channel":"sms","direction":"outbound"}'
    )
    assert texts["m05"] == '{"body_preview":null,"channel":null,"direction":"outbound"}'


def test_warehouse_ledger_is_the_same_rows_with_utc_timestamps(mirror):
    con, _, settings = mirror
    assert by_record_id(warehouse_ledger(settings)) == by_record_id(ledger(con))
