"""Both lorchestra payload shapes (CONTRACT §7): lorchestra's flat payloads and canonizer's
nested ones, mixed row by row in one `canonical_objects`, build the same ledger as the same
facts written flat only, on DuckDB and on BigQuery (emulator); refunds reach their client
through either payment reference; a session's contact may be `$.subject.reference`; money
objects keep their JSON through the mirror and the API; secondary emails resolve; the build
report counts the rows of each shape."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from lorchestra_rows import measurement, obj
from test_api_support import client_for, make_app
from test_bigquery import MIRROR_TABLES, mirror_rows

from cli_support import run_cli
from conftest import PRACTICE, by_record_id, ledger, make_settings, open_ro, write_canonicals
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
from contact_events.builder.stages.build import build
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of
from contact_events.builder.stages.sync import sync
from contact_events.builder.validate.api import validate

T = "2024-03-{:02d}T10:00:00Z".format

# --------------------------------------------------------------------------- the facts
# contact_id, email, secondary email, first, last, stage, client type, updated_at, created
CONTACT_FACTS = [
    ("c1", "Søren@Example.dk", "SOREN.WORK@example.org", "Søren", "Hansen", "active", "1",
     "2024-01-01T00:00:00Z", T(1)),
    ("c2", "Léa@example.fr", None, "Léa", "Martin", "discharged", "2", "2024-01-02T00:00:00Z",
     T(1)),
    ("c3", "shared@example.org", None, "Ann", "Lee", "active", None, "2024-01-03T00:00:00Z",
     T(1)),
    # c4's secondary email is c3's email: that address names two contacts
    ("c4", "four@example.org", " SHARED@Example.org", "Bo", "Lee", "active", None,
     "2024-01-04T00:00:00Z", T(1)),
    # c5 listed three times: the latest updated_at that parses wins (not the latest row)
    ("c5", "old5@example.org", None, "Eve", "Old", "lead", None, "2024-01-01T00:00:00Z", T(3)),
    ("c5", "new5@example.org", None, "Eve", "New", "active", None, "2024-02-01T00:00:00+01:00",
     T(1)),
    ("c5", "bad5@example.org", None, "Eve", "Bad", "active", None, "not a time", T(5)),
]  # fmt: skip
# session_id, contact_id, status, time field (flat name, nested path), time, num, created
SESSION_FACTS = [
    ("s1", "c1", "completed", ("started_at", ("period", "start")), T(1), 3, T(1)),
    ("s2", "c2", "completed", ("actual_start", ("actual_start",)), T(2), "4", T(2)),
    ("s3", "c1", "scheduled", ("scheduled_start", ("scheduled_start",)), T(3), None, T(3)),
    ("s4", "c1", "completed", ("created_at", ("meta", "createdAt")), T(4), 7, T(4)),
    ("s5", "c1", "completed", ("updated_at", ("meta", "updatedAt")), T(5), "x", T(5)),
    ("s6", "ghost", "completed", ("started_at", ("period", "start")), T(6), 1, T(6)),
    ("s7", "c2", "cancelled", ("started_at", ("period", "start")), "yesterday", 2, T(7)),
    # one session twice: the later created_at wins
    ("s8", "c2", "scheduled", ("started_at", ("period", "start")), T(8), 5, T(8)),
    ("s8", "c2", "completed", ("started_at", ("period", "start")), T(8), 5, T(9)),
]
# refund_id, payment reference, time, amount, status
REFUND_FACTS = [
    ("re1", "pi1", T(10), {"amount": 5000, "currency": "usd"}, "succeeded"),
    ("re2", "pi2", T(11), 700, "succeeded"),
    ("re3", "pi404", T(12), 100, "pending"),
    ("re4", None, T(13), 100, "failed"),
    ("re5", "pi1", None, 100, "succeeded"),
]
# lorchestra's own projection reads the flat shape; canonizer writes the nested one
SAME_IN_BOTH = [
    obj("customer", {"customer_id": "cus1", "email": "SØREN@EXAMPLE.DK"}),
    obj("customer", {"customer_id": "cus2", "email": "LÉA@example.fr"}),
    obj("payment", {"payment_id": "pi1", "customer_id": "cus1", "status": "succeeded",
        "event_time": T(9), "amount": {"amount": 5000, "currency": "usd"}, "currency": "usd",
        "payment_method_type": "card"}),
    obj("payment", {"payment_id": "pi2", "customer_id": "cus2", "status": "succeeded",
        "event_time": T(9), "amount": 700}),
    obj("invoice", {"invoice_id": "in1", "customer_email": "soren.work@EXAMPLE.org",
        "status": "paid", "event_time": T(9), "amount_due": {"amount": 5000, "currency": "usd"},
        "currency": "usd"}),
    obj("invoice", {"invoice_id": "in2", "customer_email": "shared@example.org",
        "status": "open", "event_time": T(9), "amount_due": 10}),
    obj("email_jmap_lite", {"id": "e1", "subject": "Hej", "from": [{"email": "SØREN@EXAMPLE.DK"}],
        "to": [{"email": PRACTICE}], "sentAt": T(9)}),
]  # fmt: skip
FORMS = [measurement("m1", "LÉA@EXAMPLE.FR"), measurement("m2", "Soren.Work@example.org")]


def _nest(payload: dict, keys: tuple[str, ...], value: object) -> None:
    for key in keys[:-1]:
        payload = payload.setdefault(key, {})
    payload[keys[-1]] = value


def contact_row(fact: tuple, nested: bool) -> dict:
    cid, email, secondary, first, last, stage, ctype, updated, created = fact
    if not nested:
        payload = {"contact_id": cid, "email": email, "email_secondary": secondary,
                   "first_name": first, "last_name": last, "lifecycleStage": stage,
                   "client_type_code": ctype, "updated_at": updated}  # fmt: skip
    else:
        payload = {"id": cid, "telecom": {"email": email, "emailSecondary": secondary},
                   "name": {"given": first, "family": last}, "lifecycle_stage": stage,
                   "client_type_code": ctype, "meta": {"updatedAt": updated}}  # fmt: skip
    return obj("contact", payload, created, version="2-0-0" if nested else "1-0-0")


def session_row(fact: tuple, nested: bool) -> dict:
    sid, cid, status, (flat_field, nested_path), ts, num, created = fact
    if not nested:
        payload = {"session_id": sid, "contact_id": cid, "status": status, flat_field: ts,
                   "session_num": num, "subject": "Weekly session"}  # fmt: skip
    else:
        payload = {"id": sid, "subject": {"reference": f"Contact/{cid}", "type": "Contact"},
                   "status": status, "sessionNumber": num}  # fmt: skip
        _nest(payload, nested_path, ts)
    return obj("clinical_session", payload, created, idem_key=f"dv:{sid}:{created}")


def refund_row(fact: tuple, nested: bool) -> dict:
    rid, payment, ts, amount, status = fact
    payload: dict = {"refund_id": rid, "status": status, "amount": amount, "currency": "usd"}
    if not nested:
        payload.update(payment_intent_id=payment, event_time=ts)
    else:  # canonizer's Stripe refund: the payment intent as payment_id, meta.created_at
        payload.update(payment_id=payment, meta={"created_at": ts})
    return obj("refund", payload, idem_key=f"stripe:{rid}")


def tables(mixed: bool) -> dict[str, list[dict]]:
    """The facts, every row flat, or (mixed) every other row of each kind nested."""
    rows = [
        *(contact_row(f, mixed and i % 2 == 0) for i, f in enumerate(CONTACT_FACTS)),
        *(session_row(f, mixed and i % 2 == 1) for i, f in enumerate(SESSION_FACTS)),
        *(refund_row(f, mixed and i % 2 == 0) for i, f in enumerate(REFUND_FACTS)),
        *SAME_IN_BOTH,
    ]
    return {"canonical_objects": rows, "measurement_events": FORMS}


def build_on(wh, root: Path, mixed: bool, mirror: Path):
    settings = make_settings(root, profile="lorchestra")
    canonicals = write_canonicals(root / ("mixed" if mixed else "flat"), tables(mixed))
    load_directory(wh, canonicals, profile=profile_of(settings))
    report = build(wh, settings)
    sync(wh, mirror)
    result = validate(wh, settings, mirror)
    assert result.ok, result.summary()
    return report


def assert_the_facts(mirror: Path) -> None:
    """What the facts mean (so that two equal ledgers are also right ones)."""
    con = open_ro(mirror)
    try:
        rows = by_record_id(ledger(con))
        rejects = {
            (r["source_record_id"]): (r["reason"], r["detail"])
            for r in con.execute("SELECT * FROM contact_events_rejects")
        }
        contacts = {r["contact_id"]: dict(r) for r in con.execute("SELECT * FROM contacts")}
    finally:
        con.close()
    assert contacts["c1"]["email"] == "søren@example.dk"  # stored normalised
    assert (contacts["c5"]["email"], contacts["c5"]["last_name"]) == ("new5@example.org", "New")
    assert {k: rows[k]["contact_id"] for k in ("s1", "s2", "s3", "s4", "s5", "s8")} == {
        "s1": "c1", "s2": "c2", "s3": "c1", "s4": "c1", "s5": "c1", "s8": "c2"
    }  # fmt: skip
    assert rows["s1"]["event_timestamp"] == "2024-03-01 10:00:00.000000"
    assert rows["s8"]["event_name"] == "completed"
    assert [rows[k]["payload"]["session_num"] for k in ("s1", "s2", "s3", "s4", "s5")] == [
        3, 4, None, 7, None,
    ]  # fmt: skip
    assert rejects["s6"][0] == "unknown_contact_id" and rejects["s7"][0] == "bad_timestamp"
    # refunds: through either payment reference, then the payment's customer
    assert (rows["re1"]["contact_id"], rows["re2"]["contact_id"]) == ("c1", "c2")
    assert rows["re1"]["payload"]["amount"] == {"amount": 5000, "currency": "usd"}
    assert rejects["re3"] == ("orphan", "refund -> payment: no payment pi404")
    assert rejects["re4"][0] == "orphan" and rejects["re5"][0] == "missing_timestamp"
    # secondary emails: in1 names c1's, in2 names c3's email which is c4's secondary
    assert (rows["in1"]["contact_id"], rows["in1"]["contact_email"]) == (
        "c1",
        "soren.work@example.org",
    )
    assert rejects["in2"] == ("ambiguous_email", "email matches 2 contacts: c3, c4")
    assert rows["in1"]["payload"]["amount_due"] == {"amount": 5000, "currency": "usd"}
    # upper-cased accented addresses resolve
    assert rows["e1"]["contact_id"] == "c1" and rows["pi1"]["contact_id"] == "c1"
    assert (rows["m1"]["contact_id"], rows["m1"]["contact_email"]) == ("c2", "léa@example.fr")
    assert rows["m2"]["contact_id"] == "c1"


def test_both_shapes_mixed_build_the_flat_ledger_on_duckdb(tmp_path):
    with DuckDBWarehouse(tmp_path / "flat.duckdb") as wh:
        flat_report = build_on(wh, tmp_path / "a", False, tmp_path / "flat.db")
    with DuckDBWarehouse(tmp_path / "mixed.duckdb") as wh:
        mixed_report = build_on(wh, tmp_path / "b", True, tmp_path / "mixed.db")
    assert mirror_rows(tmp_path / "mixed.db") == mirror_rows(tmp_path / "flat.db")
    assert_the_facts(tmp_path / "mixed.db")
    assert mixed_report.rejects_by_reason == flat_report.rejects_by_reason
    shapes = {s["kind"]: s for s in mixed_report.shapes}
    assert shapes["contact"] == {
        "kind": "contact", "field": "contact_id", "flat": 3, "nested": 4, "neither": 0
    }  # fmt: skip
    assert {k: shapes["clinical_session"][k] for k in ("flat", "nested", "neither")} == {
        "flat": 5, "nested": 4, "neither": 0
    }  # fmt: skip
    # re4 names no payment: it counts as `neither`, whichever shape it was written in
    assert {k: shapes["refund"][k] for k in ("field", "flat", "nested", "neither")} == {
        "field": "payment", "flat": 1, "nested": 3, "neither": 1
    }  # fmt: skip
    assert {s["kind"]: s["nested"] for s in flat_report.shapes} == {
        "clinical_session": 0, "contact": 0, "refund": 0
    }  # fmt: skip


def test_both_shapes_mixed_build_the_flat_ledger_on_bigquery(tmp_path, bigquery_warehouse):
    build_on(bigquery_warehouse, tmp_path / "a", False, tmp_path / "flat.db")
    report = build_on(bigquery_warehouse, tmp_path / "b", True, tmp_path / "mixed.db")
    assert mirror_rows(tmp_path / "mixed.db") == mirror_rows(tmp_path / "flat.db")
    assert_the_facts(tmp_path / "mixed.db")
    with DuckDBWarehouse(tmp_path / "duck.duckdb") as wh:
        duck_report = build_on(wh, tmp_path / "c", True, tmp_path / "duck.db")
    for table in MIRROR_TABLES:
        assert mirror_rows(tmp_path / "mixed.db")[table] == mirror_rows(tmp_path / "duck.db")[table]
    assert report.shapes == duck_report.shapes


@pytest.mark.parametrize(
    ("payload", "contact_id", "detail"),
    [
        ({"subject": {"reference": "contact/c1"}}, "c1", None),
        ({"subject": {"reference": "CONTACT/c1"}}, "c1", None),
        ({"subject": {"reference": "Contact/c1"}, "contact_id": ""}, "c1", None),
        # $.contact_id first: a reference is only read when it is missing or empty
        ({"subject": {"reference": "contact/c2"}, "contact_id": "c1"}, "c1", None),
        ({"subject": {"reference": "practitioner/p1"}}, None,
         "session -> contact: subject.reference practitioner/p1 is not contact/<id>"),
        ({"subject": {"reference": "contact/"}}, None,
         "session -> contact: subject.reference contact/ is not contact/<id>"),
        ({"subject": {"reference": "contacts/c1"}}, None,
         "session -> contact: subject.reference contacts/c1 is not contact/<id>"),
        ({"subject": "Weekly session"}, None, "no contact_id and no email"),
    ],
)  # fmt: skip
def test_a_sessions_contact_from_its_subject_reference(tmp_path, payload, contact_id, detail):
    contacts = [contact_row(f, False) for f in CONTACT_FACTS[:2]]
    session = obj("clinical_session", {"id": "s1", "status": "completed", "period": {
        "start": T(1)}, **payload})  # fmt: skip
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        settings = make_settings(tmp_path, profile="lorchestra")
        folder = write_canonicals(tmp_path / "c", {"canonical_objects": [*contacts, session]})
        load_directory(wh, folder, profile=profile_of(settings))
        build(wh, settings)
        sync(wh, settings.mirror_path)
        assert validate(wh, settings, settings.mirror_path).ok
    con = open_ro(settings.mirror_path)
    try:
        (row,) = ledger(con)
        rejects = con.execute("SELECT reason, detail FROM contact_events_rejects").fetchall()
    finally:
        con.close()
    assert row["contact_id"] == contact_id
    assert [tuple(r) for r in rejects] == ([] if detail is None else [("orphan", detail)])


def test_object_amounts_reach_the_api_unchanged_from_both_engines(tmp_path, bigquery_warehouse):
    """An `amount` object stays that object: in the warehouse payload, the mirror and the
    API's timeline and events answers, whichever engine built it."""
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        build_on(wh, tmp_path / "a", True, tmp_path / "duck.db")
    build_on(bigquery_warehouse, tmp_path / "b", True, tmp_path / "bq.db")
    money = {"amount": 5000, "currency": "usd"}
    for mirror in (tmp_path / "duck.db", tmp_path / "bq.db"):
        with sqlite3.connect(mirror) as con:
            (raw,) = con.execute(
                "SELECT payload FROM contact_events WHERE source_record_id = 're1'"
            ).fetchone()
        assert json.loads(raw)["amount"] == money
        settings = make_settings(tmp_path, mirror_path=mirror)
        test_client, api = client_for(make_app(settings))
        with test_client:
            timeline = {e.source_record_id: e for e in api.timeline("c1", limit=100).items}
            events = {e.source_record_id: e for e in api.events(event_type="refund").items}
        assert timeline["re1"].payload == {"amount": money, "currency": "usd", "reason": None}
        assert timeline["pi1"].payload["amount"] == money
        assert timeline["in1"].payload["amount_due"] == money
        assert events["re1"].payload["amount"] == money
        assert events["re2"].payload["amount"] == 700  # a number stays a number


def test_the_build_report_shows_the_payload_shapes(tmp_path):
    """`build` prints, per kind, the rows read through each shape of its id; `--json`
    carries the same counts."""
    folder = write_canonicals(tmp_path / "c", tables(mixed=True))
    env = {
        "CONTACT_EVENTS_PROFILE": "lorchestra",
        "CONTACT_EVENTS_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "CONTACT_EVENTS_MIRROR_PATH": str(tmp_path / "m.db"),
        "CONTACT_EVENTS_PRACTICE_EMAILS": PRACTICE,
    }
    assert run_cli(["load", str(folder)], env, tmp_path).returncode == 0
    text = run_cli(["build"], env, tmp_path)
    assert text.returncode == 0, text.stderr
    assert (
        "payload shapes: clinical_session (session_id) flat 5, nested 4, neither 0; "
        "contact (contact_id) flat 3, nested 4, neither 0; "
        "refund (payment) flat 1, nested 3, neither 1"
    ) in " ".join(text.stdout.split())
    as_json = run_cli(["build", "--json"], env, tmp_path)
    report = json.loads(as_json.stdout)["build"]
    assert {s["kind"]: (s["flat"], s["nested"], s["neither"]) for s in report["shapes"]} == {
        "clinical_session": (5, 4, 0),
        "contact": (3, 4, 0),
        "refund": (1, 3, 1),
    }


def test_the_demo_practice_meets_both_shapes_and_resolves_upper_cased_accents(tmp_path):
    """`demo-data --profile lorchestra` holds both shapes, canonizer refunds, secondary
    emails and upper-cased accented addresses; built, every one of those addresses that
    is a contact's resolves to it, and validation agrees."""
    from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize
    from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data

    folder = tmp_path / "demo"
    write_lorchestra_demo_data(folder, DemoSize(contacts=200, events=3000, seed=3))
    settings = make_settings(tmp_path, profile="lorchestra", practice_emails=list(PRACTICE_EMAILS))
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, folder, profile=profile_of(settings))
        report = build(wh, settings)
        sync(wh, settings.mirror_path)
        result = validate(wh, settings, settings.mirror_path)
    assert result.ok, result.summary()
    for shape in report.shapes:
        assert shape["flat"] > 0 and shape["nested"] > 0, report.shapes
    forms = [json.loads(line) for line in (folder / "measurement_events.jsonl").open()]
    upper = {
        f["measurement_event_id"]: f["subject_id"]
        for f in forms
        if isinstance(f["subject_id"], str)
        and not f["subject_id"].isascii()
        and f["subject_id"] == f["subject_id"].upper()
    }
    con = open_ro(settings.mirror_path)
    try:
        contacts = {r["email"]: r["contact_id"] for r in con.execute("SELECT * FROM contacts")}
        rows = by_record_id(ledger(con))
    finally:
        con.close()
    resolved = [k for k, email in upper.items() if email.lower() in contacts and k in rows]
    assert len(resolved) >= 3
    for key in resolved:
        assert rows[key]["contact_id"] == contacts[upper[key].lower()]
        assert rows[key]["contact_email"] == upper[key].lower()


# contact_id, email, last name, updated_at (flat `$.updated_at` or nested `$.meta.updatedAt`),
# the row's created_at: contacts go by updated_at (CONTRACT §1), never created_at
DEDUPE = [
    ("d1", "late@x.org", "Late", "2024-05-01T12:00:00+02:00", T(1)),  # 10:00Z: a tie ...
    ("d1", "B1@x.org", "Tie", "2024-05-01T10:00:00Z", T(9)),  # ... and "B1" < "late"
    ("d1", "old@x.org", "Old", "2024-04-30T23:59:59Z", T(20)),
    ("d2", "none@x.org", "None", None, T(9)),  # missing loses to any that parses
    ("d2", "bad@x.org", "Bad", "31/12/2099", T(9)),  # so does unparseable
    ("d2", "z2@x.org", "Parsed", "1999-01-01", T(1)),
    ("d3", "b3@x.org", "B", "garbage", T(1)),  # none parses: the row's content decides
    ("d3", "a3@x.org", "A", None, T(1)),
]
CONTACTS_SQL = "SELECT contact_id, email, last_name FROM contacts"
DEDUPED = {  # contact_id -> (email as stored, last_name)
    "d1": ("b1@x.org", "Tie"),
    "d2": ("z2@x.org", "Parsed"),
    "d3": ("a3@x.org", "A"),
}


def _dedupe_rows(nested_every: int) -> list[dict]:
    rows = []
    for i, (cid, email, last, updated, created) in enumerate(DEDUPE):
        fact = (cid, email, None, "First", last, "active", None, updated, created)
        rows.append(contact_row(fact, nested=i % nested_every == 0))
    return rows


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_lorchestra_contacts_dedupe_by_updated_at_then_content(tmp_path, order):
    rows = _dedupe_rows(2)
    rows = rows if order == "as written" else rows[::-1]
    settings = make_settings(tmp_path, profile="lorchestra")
    folder = write_canonicals(tmp_path / "c", {"canonical_objects": rows})
    with DuckDBWarehouse(settings.duckdb_path) as wh:
        load_directory(wh, folder, profile=profile_of(settings))
        report = build(wh, settings)
        sync(wh, settings.mirror_path)
        result = validate(wh, settings, settings.mirror_path)
    assert result.ok, result.summary()
    assert report.contacts == 3
    con = open_ro(settings.mirror_path)
    try:
        got = {r[0]: (r[1], r[2]) for r in con.execute(CONTACTS_SQL)}
    finally:
        con.close()
    assert got == DEDUPED


def test_a_practices_own_contacts_dedupe_the_same_and_may_hold_secondary_emails(tmp_path):
    """A SOURCES_DIR contacts file: the same dedupe; its optional secondary_email resolves
    events and is checked by validate (from the staged rows)."""
    import duckdb

    warehouse = tmp_path / "own.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(
        "CREATE TABLE people (id VARCHAR, mail VARCHAR, other VARCHAR, surname VARCHAR, "
        "changed VARCHAR)"
    )
    con.executemany(
        "INSERT INTO people VALUES (?, ?, ?, ?, ?)",
        [(cid, email, f"{cid}.WORK@Example.org", last, updated)
         for cid, email, last, updated, _ in DEDUPE],
    )  # fmt: skip
    con.execute("CREATE TABLE calls (id VARCHAR, happened VARCHAR, caller VARCHAR)")
    con.executemany(
        "INSERT INTO calls VALUES (?, ?, ?)",
        [("k1", T(1), "D1.work@example.org"), ("k2", T(2), "Z2@X.ORG"), ("k3", T(3), "b1@x.org")],
    )
    con.close()
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "people.sql").write_text(
        "-- contact-events: contacts\n"
        "SELECT id AS contact_id, mail AS email, CAST(NULL AS STRING) AS first_name,\n"
        "  surname AS last_name, CAST(NULL AS STRING) AS lifecycle_stage,\n"
        "  CAST(NULL AS STRING) AS client_type_code, changed AS updated_at,\n"
        "  other AS secondary_email\n"
        "FROM people\n"
    )
    (sources / "calls.sql").write_text(
        "-- contact-events: source\n-- source_system: mine.calls\n-- event_type: call\n"
        "SELECT id AS source_record_id, 'call' AS event_name, 'phone' AS event_source,\n"
        "  happened AS timestamp_raw, happened AS created_at_raw,\n"
        "  CAST(NULL AS STRING) AS source_contact_id,\n"
        "  caller AS source_email, '{}' AS payload\n"
        "FROM calls\n"
    )
    settings = make_settings(tmp_path, sources_dir=sources, duckdb_path=warehouse)
    with DuckDBWarehouse(warehouse) as wh:
        build(wh, settings)
        sync(wh, settings.mirror_path)
        result = validate(wh, settings, settings.mirror_path)
        (secondary,) = wh.con.execute(
            "SELECT secondary_email FROM proj_contacts WHERE contact_id = 'd1'"
        ).fetchone()
    assert result.ok, result.summary()
    assert secondary == "d1.work@example.org"  # stored normalised
    mirror = open_ro(settings.mirror_path)
    try:
        got = {r[0]: (r[1], r[2]) for r in mirror.execute(CONTACTS_SQL)}
        rows = by_record_id(ledger(mirror))
    finally:
        mirror.close()
    assert got == DEDUPED
    assert {k: rows[k]["contact_id"] for k in ("k1", "k2", "k3")} == {
        "k1": "d1", "k2": "d2", "k3": "d1"
    }  # fmt: skip
    assert rows["k1"]["contact_email"] == "d1.work@example.org"
