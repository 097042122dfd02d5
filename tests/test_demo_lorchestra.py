"""builder.demo.lorchestra: the lorchestra layout's files, determinism, streaming, loading,
and every trap of CONTRACT §7, counted by reading the output (no mocks)."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import LORCHESTRA_TABLES
from contact_events.builder.core.contract import JSON, TIMESTAMP
from contact_events.builder.core.timestamps import TimestampError, parse_timestamp
from contact_events.builder.demo.flat import PRACTICE_EMAILS
from contact_events.builder.demo.lorchestra import DemoSize, write_lorchestra_demo_data

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
SMALL = DemoSize(contacts=300, events=4000, seed=11)
KIND = re.compile(r"iglu:org\.canonical/([^/]+)/jsonschema/([^/]+)")
READ_KINDS = (
    "contact",
    "clinical_session",
    "email_jmap_lite",
    "invoice",
    "payment",
    "refund",
    "customer",
)
RECORD_ID = {
    "clinical_session": "session_id",
    "email_jmap_lite": "id",
    "invoice": "invoice_id",
    "payment": "payment_id",
    "refund": "refund_id",
}

Row = dict[str, Any]


def _read(directory: Path, table: str) -> list[Row]:
    with (directory / f"{table}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _kind(row: Row) -> str | None:
    match = KIND.fullmatch(row.get("canonical_schema") or "")
    return match.group(1) if match else None


def _instant(value: object) -> datetime | None:
    """A payload timestamp as the contract reads it; None when absent, empty or bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_timestamp(value)
    except TimestampError:
        return None


def _norm(email: object) -> str | None:
    return email.strip().lower() or None if isinstance(email, str) else None


def _messy(value: object) -> bool:
    return isinstance(value, str) and value.strip() != "" and value != value.strip().lower()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], list[int]]:
    directory = tmp_path_factory.mktemp("lorchestra")
    calls: list[int] = []
    counts = write_lorchestra_demo_data(directory, SMALL, progress=calls.append, now=NOW)
    return directory, counts, calls


@pytest.fixture(scope="module")
def objects(demo) -> list[Row]:
    return _read(demo[0], "canonical_objects")


@pytest.fixture(scope="module")
def forms(demo) -> list[Row]:
    return _read(demo[0], "measurement_events")


@pytest.fixture(scope="module")
def kinds(objects) -> dict[str, list[Row]]:
    """kind -> its rows (org.canonical kinds only), in file order."""
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for row in objects:
        by_kind[_kind(row) or "(other)"].append(row)
    return by_kind


@pytest.fixture(scope="module")
def contact_emails(kinds) -> dict[str, set[str]]:
    """normalised email -> the contact_ids that have it."""
    owners: dict[str, set[str]] = defaultdict(set)
    for row in kinds["contact"]:
        p = row["payload"]
        if _norm(p.get("email")) and p.get("contact_id"):
            owners[_norm(p["email"])].add(p["contact_id"])
    return owners


@pytest.fixture(scope="module")
def customer_email(kinds) -> dict[str, str | None]:
    """customer_id -> email of its latest row (CONTRACT §7), blank = None."""
    best: dict[str, tuple[datetime, str]] = {}
    for row in kinds["customer"]:
        cid = row["payload"].get("customer_id")
        if not cid:
            continue
        key = (parse_timestamp(row["created_at"]), -1)
        email = (row["payload"].get("email") or "").strip()
        old = best.get(cid)
        if old is None or key[0] > old[0] or (key[0] == old[0] and email < old[1]):
            best[cid] = (key[0], email)
    return {cid: email or None for cid, (_, email) in best.items()}


@pytest.fixture(scope="module")
def payment_customer(kinds) -> dict[str, str | None]:
    """payment_id -> customer_id of its latest row."""
    latest: dict[str, tuple[datetime, str | None]] = {}
    for row in kinds["payment"]:
        pid = row["payload"].get("payment_id")
        if not pid or row["created_at"] is None:
            continue
        created = parse_timestamp(row["created_at"])
        if pid not in latest or created > latest[pid][0]:
            latest[pid] = (created, row["payload"].get("customer_id") or None)
    return {pid: cid for pid, (_, cid) in latest.items()}


# --------------------------------------------------------------------------- shape


def test_writes_both_files_and_counts_match(demo, kinds):
    directory, counts, calls = demo
    assert set(counts) == set(LORCHESTRA_TABLES)
    for table in LORCHESTRA_TABLES:
        lines = (directory / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
        assert counts[table] == len(lines) > 0
    assert sum(calls) == sum(counts.values())
    events = sum(counts.values()) - len(kinds["contact"]) - len(kinds["customer"])
    assert abs(events - SMALL.events) < SMALL.events * 0.1, events


def test_every_line_has_exactly_the_contract_columns(demo):
    directory = demo[0]
    for table, columns in LORCHESTRA_TABLES.items():
        for line in (directory / f"{table}.jsonl").open(encoding="utf-8"):
            row = json.loads(line)
            assert isinstance(row, dict)
            assert list(row) == list(columns), (table, row)
            for column, kind in columns.items():
                value = row[column]
                if kind == JSON:
                    assert isinstance(value, dict), row  # every payload is an object
                elif value is not None:
                    assert isinstance(value, str), (table, column, value)


def test_timestamp_columns_parse_or_are_null(objects, forms):
    seen: list[str] = []
    for table, rows in (("canonical_objects", objects), ("measurement_events", forms)):
        for row in rows:
            for column, kind in LORCHESTRA_TABLES[table].items():
                if kind == TIMESTAMP and row[column] is not None:
                    parse_timestamp(row[column])  # raises on anything load refuses
                    seen.append(row[column])
    # several RFC 3339 forms, not one
    assert any(v.endswith("Z") and "." not in v for v in seen)
    assert any(re.search(r"\.\d{6}Z$", v) for v in seen)
    assert any(v.endswith("+00:00") for v in seen)
    assert any(v.endswith("-05:00") for v in seen)
    assert any(re.search(r"\.\d{9}\+00:00$|\.\d{7}Z$|t.*z$", v) for v in seen)
    assert any(len(v) == 10 for v in seen)  # date only


def test_nested_payload_objects_have_sorted_keys(objects):
    nested = 0

    def walk(value: object) -> None:
        nonlocal nested
        if isinstance(value, dict):
            nested += 1
            assert list(value) == sorted(value), value
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for row in objects:
        for value in row["payload"].values():
            walk(value)
    assert nested > 1000


def test_lines_are_utf8_json_with_non_ascii_kept(demo):
    text = (demo[0] / "canonical_objects.jsonl").read_text(encoding="utf-8")
    assert "\\u" not in text
    assert any(ch in text for ch in "ëŁøễ") and "🙏" in text


def test_deterministic_for_seed_and_now(tmp_path, demo):
    write_lorchestra_demo_data(tmp_path / "again", SMALL, now=NOW)
    other = DemoSize(SMALL.contacts, SMALL.events, seed=SMALL.seed + 1)
    write_lorchestra_demo_data(tmp_path / "other", other, now=NOW)
    write_lorchestra_demo_data(tmp_path / "later", SMALL, now=datetime(2025, 7, 1, tzinfo=UTC))
    for table in LORCHESTRA_TABLES:
        first = (demo[0] / f"{table}.jsonl").read_bytes()
        assert (tmp_path / "again" / f"{table}.jsonl").read_bytes() == first
        assert (tmp_path / "other" / f"{table}.jsonl").read_bytes() != first
        assert (tmp_path / "later" / f"{table}.jsonl").read_bytes() != first


def test_row_metadata(objects, kinds):
    systems = Counter((_kind(r), r["source_system"]) for r in objects)
    assert {("email_jmap_lite", "gmail"), ("email_jmap_lite", "exchange")} <= set(systems)
    for kind in ("invoice", "payment", "refund", "customer"):
        assert {s for k, s in systems if k == kind} == {"stripe"}
    for kind in ("contact", "clinical_session"):
        assert {s for k, s in systems if k == kind} == {"dataverse"}
    assert all(r["connection_name"] and r["object_type"] and r["canonical_format"] for r in objects)
    assert all(r["idem_key"] for r in kinds["invoice"])


# --------------------------------------------------------------------------- kinds


def test_two_schema_versions_and_kinds_to_ignore(objects, kinds):
    versions: dict[str, set[str]] = defaultdict(set)
    for row in objects:
        if match := KIND.fullmatch(row.get("canonical_schema") or ""):
            versions[match.group(1)].add(match.group(2))
    assert versions["contact"] == {"1-0-0", "2-0-0"}
    for kind in READ_KINDS:
        assert len(versions[kind]) == 2, (kind, versions[kind])
    for kind in ("clinical_document", "session_transcript", "form_response"):
        assert len(kinds[kind]) >= 5, kind
    vendor = [
        r for r in objects if r["canonical_schema"] == "iglu:com.lifeos/contact/jsonschema/1-0-0"
    ]
    assert vendor
    real = {r["payload"]["contact_id"] for r in kinds["contact"] if r["payload"].get("contact_id")}
    assert all(r["payload"]["contact_id"] in real for r in vendor)  # copies: must be ignored
    assert any(r["canonical_schema"] is None for r in objects)
    # a transcript carries a real session's id: read as a session it would change it
    session_ids = {r["payload"].get("session_id") for r in kinds["clinical_session"]}
    transcripts = kinds["session_transcript"]
    assert sum(r["payload"]["session_id"] in session_ids for r in transcripts) > 0.9 * len(
        transcripts
    )


def test_one_record_in_two_versions(kinds):
    found = 0
    for kind, id_key in RECORD_ID.items():
        versions: dict[object, set[str]] = defaultdict(set)
        for row in kinds[kind]:
            if row["payload"].get(id_key):
                versions[row["payload"][id_key]].add(row["canonical_schema"])
        found += sum(1 for v in versions.values() if len(v) > 1)
    assert found >= 1


# --------------------------------------------------------------------------- billing


def test_payment_chains_break_every_way(kinds, customer_email):
    customer_rows = kinds["customer"]
    blank = [r for r in customer_rows if isinstance(r["payload"].get("email"), str)]
    assert any(r["payload"]["email"] == "" for r in blank)
    assert any(r["payload"]["email"].strip() == "" != r["payload"]["email"] for r in blank)
    assert any("email" not in r["payload"] for r in customer_rows)
    assert any(r["payload"].get("email", 0) is None for r in customer_rows)

    breaks: Counter[str] = Counter()
    for row in kinds["payment"]:
        p = row["payload"]
        cid = p.get("customer_id", "(absent)")
        if cid in (None, "", "(absent)"):
            breaks[f"no customer_id: {cid!r}"] += 1
        elif cid not in customer_email:
            breaks["no such customer"] += 1
        elif customer_email[cid] is None:
            breaks["customer without email"] += 1
        else:
            breaks["ok"] += 1
    for reason in (
        "no customer_id: '(absent)'",
        "no customer_id: None",
        "no customer_id: ''",
        "no such customer",
        "customer without email",
    ):
        assert breaks[reason] >= 1, breaks
    assert breaks["ok"] / sum(breaks.values()) > 0.8, breaks


def test_refund_chains_break_every_way(kinds, customer_email, payment_customer):
    breaks: Counter[str] = Counter()
    for row in kinds["refund"]:
        target = row["payload"].get("payment_intent_id")
        if not target:
            breaks["no payment_intent_id"] += 1
        elif target not in payment_customer:
            breaks["no such payment"] += 1
        elif (customer := payment_customer[target]) is None:
            breaks["payment without customer_id"] += 1
        elif customer not in customer_email:
            breaks["payment of no customer"] += 1
        elif customer_email[customer] is None:
            breaks["customer without email"] += 1
        else:
            breaks["ok"] += 1
    assert len(breaks) == 6, breaks
    assert breaks["ok"] / sum(breaks.values()) > 0.6, breaks


def test_payment_re_ingested_with_its_customer(kinds):
    rows: dict[str, list[Row]] = defaultdict(list)
    for row in kinds["payment"]:
        if row["payload"].get("payment_id"):
            rows[row["payload"]["payment_id"]].append(row)
    added = [
        group
        for group in rows.values()
        if len(group) == 2
        and group[0]["payload"].get("customer_id") is None
        and group[1]["payload"].get("customer_id")
        and parse_timestamp(group[1]["created_at"]) > parse_timestamp(group[0]["created_at"])
    ]
    assert added


def test_customers_whose_email_changed(kinds, contact_emails):
    rows: dict[str, list[Row]] = defaultdict(list)
    for row in kinds["customer"]:
        if row["payload"].get("customer_id"):
            rows[row["payload"]["customer_id"]].append(row)
    changed = later_first = tie = tie_null = moved = 0
    for group in rows.values():
        if len(group) != 2 or group[0]["payload"].get("email") == group[1]["payload"].get("email"):
            continue
        a, b = (parse_timestamp(r["created_at"]) for r in group)
        if a == b:
            emails = [r["payload"].get("email") for r in group]
            tie_null += None in emails
            tie += None not in emails
            continue
        changed += 1
        later_first += a > b
        newest = group[0] if a > b else group[1]
        moved += _norm(newest["payload"]["email"]) not in contact_emails
    assert changed >= 2 and later_first >= 1 and moved >= 1
    assert tie >= 1 and tie_null >= 1  # equal created_at: the smaller email wins, null first
    assert any(_messy(r["payload"].get("email")) for r in kinds["customer"])
    assert any(not r["payload"].get("customer_id") for r in kinds["customer"])


def test_amounts_as_numbers_strings_and_objects(kinds):
    forms: Counter[str] = Counter()
    for kind, key in (("invoice", "amount_due"), ("payment", "amount"), ("refund", "amount")):
        for row in kinds[kind]:
            value = row["payload"].get(key)
            forms[f"{kind}:{type(value).__name__}"] += 1
            if isinstance(value, dict):
                assert set(value) == {"amount", "currency"}
    for kind in ("invoice", "payment", "refund"):
        assert forms[f"{kind}:int"] > forms[f"{kind}:str"] >= 1, forms
        assert forms[f"{kind}:dict"] >= 1, forms
    amounts = [r["payload"].get("amount") for r in kinds["payment"]]
    assert any(isinstance(a, str) and "." in a for a in amounts)
    assert any(isinstance(a, str) and a.isdigit() for a in amounts)


def test_event_time_as_a_number(kinds):
    for kind in ("invoice", "payment", "refund"):
        assert any(isinstance(r["payload"].get("event_time"), int) for r in kinds[kind]), kind


# --------------------------------------------------------------------------- sessions


def test_session_num_integer_digit_string_and_not_an_integer(kinds):
    values = [r["payload"].get("session_num") for r in kinds["clinical_session"]]
    assert sum(isinstance(v, int) for v in values) > len(values) * 0.8
    digits = [v for v in values if isinstance(v, str) and re.fullmatch(r"-?\d{1,18}", v)]
    assert digits and any(v.startswith("0") for v in digits)
    not_integers = [v for v in values if isinstance(v, str) and not re.fullmatch(r"-?\d+", v)]
    assert {"3rd", "2.5", " 4", ""} & set(not_integers)
    assert any(isinstance(v, float) for v in values) or None in values


def test_session_timestamp_fallbacks(kinds):
    sessions = [r["payload"] for r in kinds["clinical_session"]]

    def empty(p: Row, key: str) -> bool:
        return p.get(key) in (None, "")

    to_created = [p for p in sessions if empty(p, "started_at") and _instant(p.get("created_at"))]
    to_updated = [
        p
        for p in sessions
        if empty(p, "started_at") and empty(p, "created_at") and _instant(p.get("updated_at"))
    ]
    no_fall_through = [
        p
        for p in sessions
        if not empty(p, "started_at")
        and _instant(p["started_at"]) is None
        and _instant(p.get("created_at"))
    ]
    nothing = [
        p for p in sessions if all(empty(p, k) for k in ("started_at", "created_at", "updated_at"))
    ]
    assert len(to_created) >= 3 and len(to_updated) >= 2 and len(no_fall_through) >= 2
    assert nothing
    kinds_of_empty = {
        ("absent" if "started_at" not in p else repr(p["started_at"])) for p in sessions
    }
    assert {"absent", "None", "''"} <= kinds_of_empty


def test_sessions_on_unknown_or_no_contact(kinds):
    real = {r["payload"].get("contact_id") for r in kinds["contact"]}
    sessions = [r["payload"] for r in kinds["clinical_session"]]
    assert any(p.get("contact_id") and p["contact_id"] not in real for p in sessions)
    assert any(not p.get("contact_id") for p in sessions)
    assert any(isinstance(p.get("session_id"), int) for p in sessions)
    assert any(not r["idem_key"] for r in kinds["clinical_session"])


# --------------------------------------------------------------------------- mail


def _sender(p: Row) -> object:
    senders = p.get("from")
    return senders[0].get("email") if isinstance(senders, list) and senders else None


def test_emails_with_only_received_at_and_no_fall_through(kinds):
    mails = [r["payload"] for r in kinds["email_jmap_lite"]]
    only_received = [
        p for p in mails if p.get("sentAt") in (None, "") and _instant(p.get("receivedAt"))
    ]
    assert len(only_received) >= 3
    assert {"absent" if "sentAt" not in p else repr(p["sentAt"]) for p in only_received} >= {
        "absent",
        "None",
        "''",
    }
    bad_sent = [p for p in mails if p.get("sentAt") and _instant(p["sentAt"]) is None]
    assert any(_instant(p.get("receivedAt")) for p in bad_sent)
    assert any(p.get("sentAt") in (None, "") and p.get("receivedAt") in (None, "") for p in mails)


def test_mail_directions_identities_and_subjects(kinds, contact_emails):
    practice = set(PRACTICE_EMAILS)
    mails = [r["payload"] for r in kinds["email_jmap_lite"]]
    outbound = [p for p in mails if _norm(_sender(p)) in practice]
    inbound = [p for p in mails if _norm(_sender(p)) not in practice]
    assert len(outbound) > 100 and len(inbound) > 100
    assert any(_messy(_sender(p)) and _norm(_sender(p)) in practice for p in outbound)
    assert any(p["to"] and _norm(p["to"][0].get("email")) in practice for p in outbound)
    assert any(not p["to"] for p in outbound)  # no recipient
    assert any(isinstance(p.get("from"), dict) for p in mails)  # not an array
    assert any(p.get("from") == [] for p in mails)
    assert any(
        isinstance(p.get("from"), list) and p["from"] and "email" not in p["from"][0] for p in mails
    )
    clients = [_sender(p) for p in inbound] + [p["to"][0]["email"] for p in outbound if p["to"]]
    assert any(_messy(a) and " " in a for a in clients)
    assert any(
        _norm(a) and _norm(a) not in contact_emails and _norm(a) not in practice for a in clients
    )
    subjects = [p.get("subject", "(absent)") for p in mails]
    assert "" in subjects and None in subjects and "(absent)" in subjects
    assert sum(1 for s in subjects if s and len(s) > 50) >= 10
    assert any(s and not s[:50].isascii() for s in subjects)
    assert "" in {p.get("preview") for p in mails}


# --------------------------------------------------------------------------- identities


def test_contacts_messy_shared_missing_and_listed_twice(kinds, contact_emails):
    rows = kinds["contact"]
    assert any(_messy(r["payload"].get("email")) for r in rows)
    assert [e for e, owners in contact_emails.items() if len(owners) > 1]  # ambiguous
    emails = [r["payload"].get("email", "(absent)") for r in rows]
    assert None in emails and "" in emails
    assert any(not r["payload"].get("contact_id") for r in rows)
    by_id: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r["payload"].get("contact_id"):
            by_id[r["payload"]["contact_id"]].append(r["payload"])
    twice = [group for group in by_id.values() if len(group) > 1]
    stamps = [[_instant(p["updated_at"]) for p in group] for group in twice]
    assert any(None not in s and len(set(s)) == len(s) for s in stamps)  # a later one
    assert any(None in s for s in stamps)  # an unparseable one
    assert any(len(g) == 2 and g[0]["updated_at"] == g[1]["updated_at"] for g in twice)  # tie
    assert any(r["payload"].get("first_name") == "" for r in rows)


def test_orphans_ambiguous_and_messy_emails_in_sources(kinds, forms, contact_emails):
    shared = {e for e, owners in contact_emails.items() if len(owners) > 1}
    invoices = [r["payload"].get("customer_email") for r in kinds["invoice"]]
    subjects = [f["subject_id"] for f in forms]
    for values in (invoices, subjects):
        normalised = [_norm(v) for v in values]
        assert any(_messy(v) for v in values)
        assert any(n and n not in contact_emails for n in normalised)  # orphan
        assert any(n in shared for n in normalised)  # ambiguous
        assert None in normalised  # no identity


# --------------------------------------------------------------------------- duplicates


def _form_groups(forms: list[Row]) -> list[list[Row]]:
    """Forms sharing a measurement_event_id, 2 or more."""
    by_id: dict[str, list[Row]] = defaultdict(list)
    for row in forms:
        if row["measurement_event_id"]:
            by_id[row["measurement_event_id"]].append(row)
    return [g for g in by_id.values() if len(g) > 1]


def _groups(kinds, forms) -> list[list[Row]]:
    """Rows sharing a record id (per kind, and measurement_event_id), 2 or more."""
    groups: list[list[Row]] = []
    for kind, id_key in RECORD_ID.items():
        by_id: dict[object, list[Row]] = defaultdict(list)
        for row in kinds[kind]:
            if row["payload"].get(id_key):
                by_id[row["payload"][id_key]].append(row)
        groups += [g for g in by_id.values() if len(g) > 1]
    return groups + _form_groups(forms)


def test_duplicates_later_exact_and_tied(kinds, forms):
    later = exact = tie = wrong_as_text = later_first = 0
    for group in _groups(kinds, forms):
        a, b = group[:2]
        stamp = "processed_at" if "processed_at" in a else "created_at"
        if a == b:
            exact += 1
        elif a[stamp] and b[stamp]:
            ta, tb = parse_timestamp(a[stamp]), parse_timestamp(b[stamp])
            if ta == tb:
                tie += 1
            else:
                later += 1
                later_first += ta > tb
                wrong_as_text += (ta > tb) != (a[stamp] > b[stamp])
    assert later >= 10 and exact >= 5 and tie >= 5, (later, exact, tie)
    assert later_first >= 1 and wrong_as_text >= 1
    # forms too: a later processed_at
    assert any(g[0]["processed_at"] != g[1]["processed_at"] for g in _form_groups(forms))


def test_missing_record_ids(kinds, forms):
    for kind, id_key in RECORD_ID.items():
        ways = {
            ("absent" if id_key not in r["payload"] else repr(r["payload"][id_key]))
            for r in kinds[kind]
        }
        assert {"absent", "None", "''"} & ways, kind
    everywhere = {
        ("absent" if id_key not in r["payload"] else repr(r["payload"][id_key]))
        for kind, id_key in RECORD_ID.items()
        for r in kinds[kind]
    }
    assert {"absent", "None", "''"} <= everywhere
    assert {None, ""} <= {f["measurement_event_id"] for f in forms}


# --------------------------------------------------------------------------- values


def test_timestamps_inside_payloads_in_every_form(kinds):
    values = []
    for kind, keys in (
        ("clinical_session", ("started_at",)),
        ("email_jmap_lite", ("sentAt",)),
        ("invoice", ("event_time",)),
        ("payment", ("event_time",)),
        ("refund", ("event_time",)),
    ):
        values += [r["payload"].get(k) for r in kinds[kind] for k in keys]
    texts = [v for v in values if isinstance(v, str)]
    assert any(re.search(r"[+-](0[1-9]|1\d):\d\d$", v) for v in texts)  # offsets
    assert any(len(v) == 19 and v[10] == " " for v in texts)  # naive, space
    assert any(len(v) == 19 and v[10] == "T" for v in texts)  # naive, T
    assert any(len(v) == 10 and _instant(v) for v in texts)  # date only
    assert any(v != v.strip() and _instant(v) for v in texts)  # padded
    assert any(v[10:11] == "t" and v.endswith("z") for v in texts)  # lower case
    assert any(re.search(r"\.\d{7}Z$", v) for v in texts) or any(
        re.search(r"\.\d{9}\+00:00$", v) for v in texts
    )
    assert {"yesterday", "2024-13-45T00:00:00Z", "03/01/2024"} & set(texts)
    assert sum(1 for v in texts if v.strip() and _instant(v) is None) >= 10
    assert "" in texts and None in values


def test_empty_strings_where_values_belong(kinds, forms):
    assert any(r["payload"].get("status") == "" for r in kinds["payment"])
    assert any(r["payload"].get("status") == "" for r in kinds["invoice"])
    assert any(r["payload"].get("currency") == "" for r in kinds["refund"])
    assert any(r["payload"].get("description") == "" for r in kinds["invoice"])
    assert any(f["event_subtype"] == "" for f in forms) or any(f["binding_id"] == "" for f in forms)


def test_measurement_events(forms):
    assert {"intake_01", "intake_02", "followup"} <= {f["event_subtype"] for f in forms}
    assert any(f["occurred_at"] is None for f in forms)  # missing_timestamp
    assert any(f["processed_at"] is None for f in forms)
    assert all(f["canonical_object_id"] for f in forms)
    occurred = [f["occurred_at"] for f in forms if f["occurred_at"]]
    assert any(len(v) == 10 for v in occurred) and any(v[10:11] == " " for v in occurred)


# --------------------------------------------------------------------------- streaming


def _peak(directory: Path, size: DemoSize) -> int:
    tracemalloc.start()
    try:
        write_lorchestra_demo_data(directory, size, now=NOW)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_events(tmp_path):
    write_lorchestra_demo_data(tmp_path / "warm", DemoSize(20, 200), now=NOW)  # caches
    # the small run already fills the sink's buffer once (FLUSH_ROWS): from there on, only
    # a growing state would raise the peak
    small = _peak(tmp_path / "small", DemoSize(contacts=50, events=5_500))
    large = _peak(tmp_path / "large", DemoSize(contacts=50, events=55_000))
    assert large < small * 1.3, (small, large)


def test_progress_is_called_in_chunks(tmp_path):
    calls: list[int] = []
    counts = write_lorchestra_demo_data(tmp_path, DemoSize(100, 20_000), calls.append, NOW)
    assert len(calls) >= 3
    assert sum(calls) == sum(counts.values())


# --------------------------------------------------------------------------- loading


def test_loads_into_duckdb(demo, tmp_path):
    from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
    from contact_events.builder.stages.load import load_directory
    from contact_events.builder.stages.profiles import PROFILES_DIR, load_profile

    directory, counts, _ = demo
    profile = load_profile(PROFILES_DIR / "lorchestra", "lorchestra")
    with DuckDBWarehouse(tmp_path / "w.duckdb") as warehouse:
        report = load_directory(warehouse, directory, profile=profile)
        assert report.rows == counts
        assert not report.missing_files and not report.ignored_fields
        for table in LORCHESTRA_TABLES:
            rows = warehouse.fetch(f"SELECT count(*) AS n FROM {table}")
            assert rows[0]["n"] == counts[table]
