"""The lorchestra profile (CONTRACT §7) on DuckDB: every kind mapped to the ledger as the
contract's table says, the billing chains and their orphans, kinds matched by name at any
version, the build report's inputs, and the load of the two JSONL files."""

from __future__ import annotations

import json

import pytest
from lorchestra_rows import contact, measurement, obj

from conftest import PRACTICE, by_record_id, ledger, mirror_fixture, write_canonicals
from contact_events.builder import validate as v
from contact_events.builder.core.errors import LoadError
from contact_events.builder.engine import open_warehouse
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import PROFILES_DIR, load_profile
from contact_events.builder.validate.findings import FIELD_DIFFERS

LORCHESTRA = load_profile(PROFILES_DIR / "lorchestra", "lorchestra")

CONTACTS = [
    contact("c1", " Ann@Example.org ", first_name="Ann", lifecycleStage="active"),
    contact("c2", "bob@example.org", lifecycleStage="discharged", version="1-0-0"),
    contact("c3", "shared@example.org"),
    contact("c4", "shared@example.org"),
    # c5's email changed: the row with the later updated_at wins
    contact("c5", "old5@example.org", updated_at="2024-01-01T00:00:00Z"),
    contact("c5", "new5@example.org", updated_at="2024-02-01T00:00:00Z"),
    # another vendor's contact schema is not a contact of this layout
    obj("contact", {"contact_id": "x9", "email": "x9@example.org"}, vendor="com.lifeos"),
]
SESSIONS = [
    obj("clinical_session", {"session_id": "s1", "contact_id": "c1", "status": "completed",
        "started_at": "2024-03-01T10:00:00+02:00", "session_num": 3}, version="2-0-0"),
    # no started_at: created_at, then updated_at; session_num as a digit string
    obj("clinical_session", {"session_id": "s2", "contact_id": "c1", "status": "completed",
        "started_at": "", "created_at": "2024-03-02T10:00:00Z", "session_num": "4"}),
    obj("clinical_session", {"session_id": "s3", "contact_id": "c1",
        "updated_at": "2024-03-03T10:00:00Z", "session_num": "3.5"}),
    # a non-empty unparseable started_at does not fall through to created_at
    obj("clinical_session", {"session_id": "s4", "contact_id": "c1",
        "started_at": "yesterday", "created_at": "2024-03-04T10:00:00Z"}),
    obj("clinical_session", {"session_id": "s5", "contact_id": "ghost",
        "started_at": "2024-03-05T10:00:00Z"}),
    # two rows of one session: the later created_at wins (written first here)
    obj("clinical_session", {"session_id": "s6", "contact_id": "c2", "status": "cancelled",
        "started_at": "2024-03-06T10:00:00Z"}, "2024-03-07T00:00:00Z"),
    obj("clinical_session", {"session_id": "s6", "contact_id": "c2", "status": "scheduled",
        "started_at": "2024-03-06T10:00:00Z"}, "2024-03-06T00:00:00Z"),
    obj("clinical_session", {"contact_id": "c2", "started_at": "2024-03-06T10:00:00Z"}),
]  # fmt: skip
EMAILS = [
    obj("email_jmap_lite", {"id": "e1", "threadId": "t1", "subject": "Your appointment",
        "from": [{"name": "Front", "email": PRACTICE.upper()}],
        "to": [{"email": " BOB@example.org"}, {"email": "other@example.org"}],
        "sentAt": "2024-03-08T09:00:00Z", "preview": "See you"}),
    # inbound; only receivedAt; the row's source_system is the event_source
    obj("email_jmap_lite", {"id": "e2", "subject": "", "from": [{"email": "ann@example.org"}],
        "to": [{"email": PRACTICE}], "receivedAt": "2024-03-09T09:00:00Z"},
        source_system="exchange"),
    obj("email_jmap_lite", {"id": "e3", "from": [{"email": "stranger@example.net"}],
        "sentAt": "2024-03-10T09:00:00Z"}),
]  # fmt: skip
BILLING = [
    obj("invoice", {"invoice_id": "in1", "invoice_number": "N-1",
        "customer_email": "ann@example.org",
        "status": "paid", "event_time": "2024-03-11T00:00:00Z", "amount_due": 12500,
        "currency": "usd", "description": ""}),
    obj("invoice", {"invoice_id": "in2", "customer_email": "shared@example.org",
        "status": "open", "event_time": "2024-03-11T00:00:00Z", "amount_due": "99.50"}),
    obj("customer", {"customer_id": "cus1", "email": "bob@example.org"}, "2024-01-01T00:00:00Z"),
    # cus2's email changed: the later created_at wins
    obj("customer", {"customer_id": "cus2", "email": "old@example.org"}, "2024-01-01T00:00:00Z"),
    obj("customer", {"customer_id": "cus2", "email": "ann@example.org"}, "2024-02-01T00:00:00Z"),
    obj("customer", {"customer_id": "cus3", "email": "  "}),
    obj("payment", {"payment_id": "pi1", "customer_id": "cus1", "status": "succeeded",
        "event_time": "2024-03-12T00:00:00Z", "amount": {"amount": 5000, "currency": "usd"},
        "currency": "usd", "payment_method_type": "card"}),
    obj("payment", {"payment_id": "pi2", "customer_id": "cus2", "status": "succeeded",
        "event_time": "2024-03-12T00:00:00Z", "amount": 7000}),
    obj("payment", {"payment_id": "pi3", "status": "failed", "event_time": "2024-03-12T00:00:00Z"}),
    obj("payment", {"payment_id": "pi4", "customer_id": "cus404", "status": "succeeded",
        "event_time": "2024-03-12T00:00:00Z"}),
    obj("payment", {"payment_id": "pi5", "customer_id": "cus3", "status": "succeeded",
        "event_time": "2024-03-12T00:00:00Z"}),
    obj("refund", {"refund_id": "re1", "payment_intent_id": "pi1", "status": "succeeded",
        "event_time": "2024-03-13T00:00:00Z", "amount": 300, "reason": "duplicate"}),
    obj("refund", {"refund_id": "re2", "payment_intent_id": "pi404", "status": "succeeded",
        "event_time": "2024-03-13T00:00:00Z"}),
    obj("refund", {"refund_id": "re3", "status": "pending", "event_time": "2024-03-13T00:00:00Z"}),
    obj("refund", {"refund_id": "re4", "payment_intent_id": "pi4", "status": "succeeded",
        "event_time": "2024-03-13T00:00:00Z"}),
    obj("refund", {"refund_id": "re5", "payment_intent_id": "pi2", "status": "succeeded",
        "event_time": "2024-03-13T00:00:00Z"}),
]  # fmt: skip
IGNORED = [
    obj("clinical_document", {"document_id": "d1", "contact_id": "c1"}, version="2-0-0"),
    obj("session_transcript", {"id": "tr1"}),
]
FORMS = [
    measurement("m1", "ann@example.org", event_subtype="intake_01"),
    # two rows of one submission: the later processed_at wins (written first here)
    measurement("m2", "BOB@example.org ", event_subtype="followup",
                processed_at="2024-04-02T00:00:00Z", source_id="sub-new"),
    measurement("m2", "bob@example.org", event_subtype="intake_01",
                processed_at="2024-04-01T00:00:00Z", source_id="sub-old"),
    measurement("m3", "ann@example.org", occurred_at=None),
    measurement("m4", "nobody@example.org", binding_version=None),
]  # fmt: skip

TABLES = {
    "canonical_objects": [*CONTACTS, *SESSIONS, *EMAILS, *BILLING, *IGNORED],
    "measurement_events": FORMS,
}

mirror = mirror_fixture("lorchestra", TABLES, profile="lorchestra")


def rejects_of(con) -> dict[tuple[str, str | None], tuple[str, str, str]]:
    rows = con.execute("SELECT * FROM contact_events_rejects").fetchall()
    return {(r["source_system"], r["source_record_id"]): (r[2], r[3], r[4]) for r in rows}


def test_contacts_come_from_the_contact_kind_of_any_version(mirror):
    con, report, _ = mirror
    rows = {r["contact_id"]: dict(r) for r in con.execute("SELECT * FROM contacts")}
    assert set(rows) == {"c1", "c2", "c3", "c4", "c5"}  # not x9: another vendor's schema
    assert rows["c1"]["lifecycle_stage"] == "active"  # <- $.lifecycleStage
    assert rows["c2"]["lifecycle_stage"] == "discharged"  # version 1-0-0 read too
    assert rows["c5"]["email"] == "new5@example.org"
    assert report.contacts == 5


def test_forms_come_from_measurement_events(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    assert rows["m1"]["event_type"] == "form" and rows["m1"]["event_name"] == "intake_01"
    assert rows["m1"]["event_source"] == "google_form"
    assert rows["m1"]["event_timestamp"] == "2024-03-01 09:00:00.000000"
    assert rows["m1"]["contact_id"] == "c1"
    assert rows["m1"]["payload"] == {
        "binding_id": "bind-intake",
        "binding_version": "1",
        "canonical_object_id": "obj-1",
        "form_id": "form-1",
        "form_submission_id": "sub-1",
    }
    # the later processed_at wins; the respondent's email is normalised
    assert rows["m2"]["event_name"] == "followup"
    assert rows["m2"]["payload"]["form_submission_id"] == "sub-new"
    assert rows["m2"]["contact_id"] == "c2"
    assert rows["m4"]["contact_id"] is None and rows["m4"]["payload"]["binding_version"] is None
    assert rejects_of(con)[("measurement_events", "m3")][1] == "missing_timestamp"


def test_sessions(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    s1 = rows["s1"]
    assert (s1["event_type"], s1["event_name"], s1["event_source"]) == (
        "session",
        "completed",
        "dataverse",
    )
    assert s1["source_system"] == "canonical.clinical_sessions"
    assert s1["event_timestamp"] == "2024-03-01 08:00:00.000000"
    assert s1["payload"]["session_num"] == 3 and s1["payload"]["idem_key"].startswith("idem-")
    assert rows["s2"]["event_timestamp"] == "2024-03-02 10:00:00.000000"  # created_at
    assert rows["s2"]["payload"]["session_num"] == 4  # a digit string is an integer
    assert rows["s3"]["event_timestamp"] == "2024-03-03 10:00:00.000000"  # updated_at
    assert rows["s3"]["payload"]["session_num"] is None  # "3.5" is no integer
    assert rows["s6"]["event_name"] == "cancelled"  # the later created_at
    rejects = rejects_of(con)
    assert rejects[("canonical.clinical_sessions", "s4")][1] == "bad_timestamp"
    assert rejects[("canonical.clinical_sessions", "s5")][1] == "unknown_contact_id"
    assert rejects[("canonical.clinical_sessions", None)][1] == "missing_record_id"


def test_emails(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    e1 = rows["e1"]
    assert e1["event_name"] == "outbound: Your appointment"
    assert e1["contact_id"] == "c2" and e1["contact_email"] == "bob@example.org"
    assert e1["event_source"] == "gmail" and e1["source_system"] == "canonical.email_events"
    assert e1["payload"] == {
        "direction": "outbound",
        "preview": "See you",
        "subject": "Your appointment",
        "thread_id": "t1",
    }
    e2 = rows["e2"]
    assert e2["event_name"] == "inbound: (no subject)" and e2["contact_id"] == "c1"
    assert e2["event_source"] == "exchange"
    assert e2["event_timestamp"] == "2024-03-09 09:00:00.000000"  # receivedAt
    assert e2["payload"]["subject"] is None and e2["payload"]["preview"] is None
    assert rows["e3"]["contact_id"] is None  # an orphan


def test_invoices_keep_json_types(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    in1 = rows["in1"]
    assert (in1["event_type"], in1["event_name"], in1["source_system"]) == (
        "invoice",
        "paid",
        "stripe_invoice",
    )
    assert in1["event_source"] == "stripe" and in1["contact_id"] == "c1"
    assert in1["payload"] == {
        "amount_due": 12500,  # a number stays a number
        "currency": "usd",
        "description": None,  # "" is null
        "invoice_number": "N-1",
    }
    raw = con.execute(
        "SELECT payload FROM contact_events WHERE source_record_id = 'in1'"
    ).fetchone()[0]
    assert '"amount_due":12500' in raw
    assert rows.get("in2") is None
    assert rejects_of(con)[("stripe_invoice", "in2")][1] == "ambiguous_email"


def test_payments_follow_the_customer_chain(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    assert rows["pi1"]["contact_id"] == "c2"
    assert rows["pi1"]["payload"] == {
        "amount": {"amount": 5000, "currency": "usd"},
        "currency": "usd",
        "payment_method_type": "card",
    }
    assert rows["pi2"]["contact_id"] == "c1"  # cus2's latest email
    assert rows["pi2"]["payload"]["amount"] == 7000
    rejects = rejects_of(con)
    for record_id, link in (
        ("pi3", "the payment has no customer_id"),
        ("pi4", "no customer cus404"),
        ("pi5", "customer cus3 has no email"),
    ):
        assert rows[record_id]["contact_id"] is None  # kept: an orphan
        severity, reason, detail = rejects[("stripe_payment", record_id)]
        assert (severity, reason) == ("warning", "orphan")
        assert detail == f"payment -> customer: {link}"


def test_refunds_follow_payment_then_customer(mirror):
    con, _, _ = mirror
    rows = by_record_id(ledger(con))
    assert rows["re1"]["contact_id"] == "c2" and rows["re1"]["payload"]["amount"] == 300
    assert rows["re5"]["contact_id"] == "c1"
    rejects = rejects_of(con)
    assert rejects[("stripe_refund", "re2")][2] == "refund -> payment: no payment pi404"
    assert rejects[("stripe_refund", "re3")][2] == (
        "refund -> payment: the refund has no payment_intent_id"
    )
    assert rejects[("stripe_refund", "re4")][2] == (
        "refund -> payment pi4 -> customer: no customer cus404"
    )


def test_every_record_of_a_read_kind_is_in_the_ledger_or_the_rejects(mirror):
    con, report, _ = mirror
    in_ledger = {r["source_record_id"] for r in ledger(con)}
    rejected = {k[1] for k, v in rejects_of(con).items() if v[1] != "orphan"}
    ids = {
        row["payload"].get(key)
        for row in TABLES["canonical_objects"]
        for kind, key in (
            ("clinical_session", "session_id"),
            ("email_jmap_lite", "id"),
            ("invoice", "invoice_id"),
            ("payment", "payment_id"),
            ("refund", "refund_id"),
        )
        if f"/{kind}/" in row["canonical_schema"]
    } | {row["measurement_event_id"] for row in FORMS}
    assert ids - {None} == (in_ledger | rejected) - {None}
    assert not (in_ledger & rejected)


def test_event_types_and_the_report(mirror):
    con, report, _ = mirror
    assert report.profile == "lorchestra"
    assert report.event_types == ["form", "session", "email", "invoice", "payment", "refund"]
    build = con.execute("SELECT profile, event_types FROM ledger_builds").fetchone()
    assert build[0] == "lorchestra" and json.loads(build[1]) == report.event_types
    assert set(report.ledger_rows) == {
        "measurement_events",
        "canonical.clinical_sessions",
        "canonical.email_events",
        "stripe_invoice",
        "stripe_payment",
        "stripe_refund",
    }
    inputs = {i["input"]: (i["rows"], i["used"]) for i in report.inputs}
    assert inputs["iglu:org.canonical/contact/jsonschema/2-0-0"] == (5, True)
    assert inputs["iglu:org.canonical/contact/jsonschema/1-0-0"] == (1, True)
    assert inputs["iglu:com.lifeos/contact/jsonschema/1-0-0"] == (1, False)
    assert inputs["iglu:org.canonical/clinical_document/jsonschema/2-0-0"] == (1, False)
    assert inputs["iglu:org.canonical/session_transcript/jsonschema/1-0-0"] == (1, False)
    assert inputs["measurement_events"] == (len(FORMS), True)


def test_validation_proves_the_lorchestra_ledger(mirror):
    con, _, settings = mirror
    with open_warehouse(settings) as wh:
        result = v.validate(wh, settings, settings.mirror_path)
    assert result.ok, result.summary()
    assert "lorchestra" in result.scope
    assert result.events_checked == con.execute("SELECT count(*) FROM contact_events").fetchone()[0]


def test_validation_finds_a_tampered_lorchestra_ledger(mirror, tmp_path):
    _, _, settings = mirror
    import shutil

    copy = tmp_path / "tampered.db"
    shutil.copyfile(settings.mirror_path, copy)
    import sqlite3

    rw = sqlite3.connect(copy)
    rw.execute(
        'UPDATE contact_events SET payload = \'{"amount":"300","currency":null,'
        '"reason":"duplicate"}\' WHERE source_record_id = \'re1\''
    )
    rw.execute("UPDATE contact_events SET contact_id = 'c1' WHERE source_record_id = 'pi1'")
    rw.commit()
    rw.close()
    with open_warehouse(settings) as wh:
        result = v.validate(wh, settings, copy)
    assert not result.ok
    differs = {(f.source_record_id, f.field) for f in result.find(kind=FIELD_DIFFERS)}
    assert ("re1", "payload") in differs and ("pi1", "contact_id") in differs


# --- load -------------------------------------------------------------------------------


def test_a_payload_that_is_not_an_object_is_a_load_error_naming_file_and_line(tmp_path):
    rows = [contact("c1", "a@example.org"), {**contact("c2", "b@example.org"), "payload": "{}"}]
    canon = write_canonicals(tmp_path / "c", {"canonical_objects": rows})
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(LoadError, match=r"canonical_objects\.jsonl:2: field 'payload'"):
            load_directory(wh, canon, profile=LORCHESTRA)
        assert not wh.table_exists("canonical_objects")  # nothing changed


def test_a_bad_timestamp_column_is_a_load_error(tmp_path):
    canon = write_canonicals(
        tmp_path / "c", {"measurement_events": [measurement("m1", "a@x.org", processed_at="soon")]}
    )
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        with pytest.raises(LoadError, match=r"measurement_events\.jsonl:1: field 'processed_at'"):
            load_directory(wh, canon, profile=LORCHESTRA)


def test_load_reads_the_two_files_of_the_layout(tmp_path):
    canon = write_canonicals(tmp_path / "c", TABLES)
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        report = load_directory(wh, canon, profile=LORCHESTRA)
        assert report.rows == {
            "canonical_objects": len(TABLES["canonical_objects"]),
            "measurement_events": len(FORMS),
        }
        (row,) = wh.fetch("SELECT typeof(payload) AS p, typeof(created_at) AS c "
                          "FROM canonical_objects LIMIT 1")  # fmt: skip
    assert row == {"p": "JSON", "c": "TIMESTAMP WITH TIME ZONE"}


def test_validation_proves_the_lorchestra_demo_practice(tmp_path):
    """Every trap of the lorchestra demo data, built by the SQL and re-read by the
    independent Python path: the same ledger, rejects and contacts."""
    from conftest import make_settings
    from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize
    from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data
    from contact_events.builder.pipeline import rebuild

    settings = make_settings(tmp_path, profile="lorchestra", practice_emails=list(PRACTICE_EMAILS))
    write_lorchestra_demo_data(tmp_path / "demo", DemoSize(contacts=300, events=6000, seed=3))
    with open_warehouse(settings) as wh:
        load_directory(wh, tmp_path / "demo", profile=LORCHESTRA)
    report = rebuild(settings, validate=True)
    summary = report.sync.validation
    assert summary is not None and summary["ok"], summary
    assert summary["events_checked"] == report.build.total_rows > 1000
    assert all(n > 0 for n in report.build.rejects_by_reason.values())
