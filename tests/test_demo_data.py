"""builder.demo.flat: shape, determinism, scale knobs and every trap the rules handle."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import CANONICAL_TABLES, SOURCES
from contact_events.builder.core.contract import INT64, STRING_ARRAY, TIMESTAMP_RE
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
SMALL = DemoSize(contacts=60, events=3000, seed=11)
TS_COLUMN = {
    "measurement_events": "timestamp",
    "email_events": "sent_at",
    "messages": "sent_at",
    "system_events": "occurred_at",
}


def _read(directory: Path) -> dict[str, list[dict]]:
    return {
        t: [json.loads(line) for line in (directory / f"{t}.jsonl").open(encoding="utf-8")]
        for t in CANONICAL_TABLES
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], list[int]]:
    directory = tmp_path_factory.mktemp("demo")
    calls: list[int] = []
    counts = write_demo_data(directory, SMALL, progress=calls.append, now=NOW)
    return directory, counts, calls


@pytest.fixture(scope="module")
def tables(demo) -> dict[str, list[dict]]:
    return _read(demo[0])


def _norm(email: object) -> str | None:
    return email.strip().lower() or None if isinstance(email, str) else None


def _parse(value: object) -> datetime | None:
    """A contract timestamp -> aware UTC datetime; None if it does not parse."""
    text = str(value).strip()
    if not TIMESTAMP_RE.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _event_timestamp(table: str, row: dict) -> object:
    if table == "clinical_sessions":
        candidates = [row.get(c) for c in ("started_at", "ended_at", "created_at")]
        return next((v for v in candidates if v not in (None, "")), None)
    return row.get(TS_COLUMN[table])


def _identity(table: str, row: dict) -> tuple[str | None, str | None]:
    if table == "measurement_events":
        return None, _norm(row.get("subject_id"))
    if table == "clinical_sessions":
        return row.get("contact_id") or None, None
    if table == "email_events":
        practice = {e.lower() for e in PRACTICE_EMAILS}
        if _norm(row.get("from_email")) in practice:
            return None, _norm((row.get("to_emails") or [None])[0])
        return None, _norm(row.get("from_email"))
    return row.get("contact_id") or None, _norm(row.get("contact_email"))


def _reason(table: str, row: dict, ids: set[str], by_email: dict[str, set[str]]) -> str | None:
    """CONTRACT §2-3, written out independently: the first problem of a row, if any."""
    if not row.get(SOURCES[table][1]):
        return "missing_record_id"
    ts = _event_timestamp(table, row)
    if ts in (None, ""):
        return "missing_timestamp"
    if _parse(ts) is None:
        return "bad_timestamp"
    contact_id, email = _identity(table, row)
    if contact_id:
        return None if contact_id in ids else "unknown_contact_id"
    owners = by_email.get(email or "", set())
    if len(owners) > 1:
        return "ambiguous_email"
    return None if owners else "orphan"


def _contact_index(tables) -> tuple[set[str], dict[str, set[str]]]:
    ids = {c["contact_id"] for c in tables["contacts"]}
    by_email: dict[str, set[str]] = {}
    for c in tables["contacts"]:
        if _norm(c.get("email")):
            by_email.setdefault(_norm(c["email"]), set()).add(c["contact_id"])
    return ids, by_email


def _all_timestamps(tables) -> list[object]:
    values = []
    for table, rows in tables.items():
        cols = [c for c in CANONICAL_TABLES[table] if c.endswith(("_at", "timestamp"))]
        values += [r.get(c) for r in rows for c in cols]
    return values


# --------------------------------------------------------------------------- shape


def test_default_size_is_a_real_practice():
    assert DemoSize().contacts >= 500
    assert DemoSize().events >= 20_000


def test_writes_all_six_tables_and_counts_match(demo):
    directory, counts, calls = demo
    assert set(counts) == set(CANONICAL_TABLES)
    for table in CANONICAL_TABLES:
        lines = (directory / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
        assert counts[table] == len(lines) > 0
    event_rows = sum(n for t, n in counts.items() if t != "contacts")
    assert sum(calls) == event_rows
    assert abs(event_rows - SMALL.events) < SMALL.events * 0.05


def test_rows_have_contract_columns_and_types(tables):
    for table, rows in tables.items():
        columns = CANONICAL_TABLES[table]
        for row in rows:
            assert isinstance(row, dict)
            assert set(row) <= set(columns), (table, row)
            for col, value in row.items():
                if value is None:
                    continue
                if columns[col] == INT64:
                    assert isinstance(value, int) and not isinstance(value, bool)
                elif columns[col] == STRING_ARRAY:
                    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
                else:
                    assert isinstance(value, str), (table, col, value)


def test_lines_are_json_dumps_with_non_ascii_kept(demo):
    directory = demo[0]
    text = ""
    for table in CANONICAL_TABLES:
        for line in (directory / f"{table}.jsonl").open(encoding="utf-8"):
            assert line.rstrip("\n") == json.dumps(json.loads(line), ensure_ascii=False)
            text += line
    assert "\\u" not in text
    assert any(ch in text for ch in "ëŁøễ")


def test_deterministic_for_seed_and_now(tmp_path, demo):
    write_demo_data(tmp_path / "again", SMALL, now=NOW)
    write_demo_data(tmp_path / "other", DemoSize(60, 3000, seed=12), now=NOW)
    for table in CANONICAL_TABLES:
        first = (demo[0] / f"{table}.jsonl").read_bytes()
        assert (tmp_path / "again" / f"{table}.jsonl").read_bytes() == first
        assert (tmp_path / "other" / f"{table}.jsonl").read_bytes() != first


def test_default_now_is_the_current_hour(tmp_path):
    write_demo_data(tmp_path, DemoSize(contacts=5, events=50))
    latest = max(
        p for r in _read(tmp_path)["clinical_sessions"] if (p := _parse(r.get("created_at")))
    )
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert latest <= hour + timedelta(hours=4)


def test_events_span_two_years_with_recent_activity(tables):
    instants = [
        p
        for table in TS_COLUMN | {"clinical_sessions": None}
        for r in tables[table]
        if (p := _parse(_event_timestamp(table, r) or ""))
    ]
    assert min(instants) >= NOW - timedelta(days=731)
    assert max(instants) <= NOW
    assert max(instants) >= NOW - timedelta(days=3)
    assert min(instants) <= NOW - timedelta(days=300)


def test_practice_content(tables):
    contacts = tables["contacts"]
    stages = Counter(c["lifecycle_stage"] for c in contacts)
    assert stages.most_common(1)[0][0] == "active"
    assert {"active", "discharged", "lead"} <= set(stages)
    assert {"individual", "couple", "child"} <= {c["client_type_code"] for c in contacts}
    assert all(c["first_name"] and c["last_name"] for c in contacts)
    sessions = tables["clinical_sessions"]
    statuses = Counter(s["status"] for s in sessions)
    assert statuses.most_common(1)[0][0] == "Session Completed"
    assert {"Client Cancelled", "No Show"} <= set(statuses)
    forms = tables["measurement_events"]
    assert {f["measure_id"] for f in forms} == {"phq9", "gad7", "core10"}
    mails = tables["email_events"]
    assert {m["provider"] for m in mails} == {"gmail", "outlook"}
    assert any(m.get("labels") for m in mails) and any(m.get("thread_id") for m in mails)
    messages = tables["messages"]
    assert {m["channel"] for m in messages} == {"sms", "whatsapp"}
    assert {m["direction"] for m in messages} == {"inbound", "outbound"}
    names = {e["event_name"] for e in tables["system_events"]}
    assert {"Form Reminder Sent", "Appointment Reminder Sent", "Intake Completed"} <= names


# --------------------------------------------------------------------------- traps


def test_every_reason_of_the_contract_occurs_in_small_proportions(tables):
    ids, by_email = _contact_index(tables)
    reasons: Counter[str | None] = Counter()
    for table in SOURCES:
        for row in tables[table]:
            reasons[_reason(table, row, ids, by_email)] += 1
    total = sum(reasons.values())
    for reason in (
        "missing_record_id",
        "missing_timestamp",
        "bad_timestamp",
        "unknown_contact_id",
        "ambiguous_email",
        "orphan",
    ):
        assert reasons[reason] >= 5, (reason, reasons)
        assert reasons[reason] / total < 0.05, (reason, reasons)
    assert reasons[None] / total > 0.85


def test_email_shared_by_two_contacts(tables):
    _, by_email = _contact_index(tables)
    shared = [e for e, owners in by_email.items() if len(owners) > 1]
    assert len(shared) >= 2


def test_mixed_case_and_padded_emails(tables):
    def messy(value: object) -> bool:
        return isinstance(value, str) and value != value.strip().lower()

    assert any(messy(c.get("email")) for c in tables["contacts"])
    assert any(messy(r.get("subject_id")) for r in tables["measurement_events"])
    assert any(messy(r.get("contact_email")) for r in tables["messages"])
    mail_addresses = [r.get("from_email") for r in tables["email_events"]]
    mail_addresses += [t for r in tables["email_events"] for t in r.get("to_emails") or []]
    assert any(messy(a) and " " in a for a in mail_addresses)
    assert any(messy(a) and _norm(a) in PRACTICE_EMAILS for a in mail_addresses)


def test_timestamp_styles(tables):
    values = [v for v in _all_timestamps(tables) if isinstance(v, str)]
    assert any(v.endswith("Z") and TIMESTAMP_RE.match(v) for v in values)
    assert any(TIMESTAMP_RE.match(v) and v[-6:] in ("+02:00", "-05:00") for v in values)
    assert any(TIMESTAMP_RE.match(v) and len(v) == 19 and v[10] == " " for v in values)
    assert any(TIMESTAMP_RE.match(v) and len(v) == 19 and v[10] == "T" for v in values)
    assert any(TIMESTAMP_RE.match(v) and len(v) == 10 for v in values)
    assert any(v != v.strip() and TIMESTAMP_RE.match(v.strip()) for v in values)
    # RFC 3339 forms strict parsers refuse: lower-case t/z, 7 and 9 fractional digits
    assert any(TIMESTAMP_RE.match(v) and v[10:11] == "t" and v.endswith("z") for v in values)
    assert any(TIMESTAMP_RE.match(v) and re.search(r"\.\d{7}Z$", v) for v in values)
    assert any(TIMESTAMP_RE.match(v) and re.search(r"\.\d{9}\+00:00$", v) for v in values)
    assert sum(1 for v in values if v.strip() and not TIMESTAMP_RE.match(v.strip())) >= 5
    assert {"yesterday", "2024-13-45T00:00:00Z", "03/01/2024"} <= set(values)
    assert any(TIMESTAMP_RE.match(v) and _parse(v) is None for v in values)  # 2024-02-30
    assert values.count("") >= 3


def test_missing_timestamps_and_ids_absent_null_or_empty(tables):
    for table, column in TS_COLUMN.items():
        kinds = {("absent" if column not in r else repr(r[column])) for r in tables[table]}
        assert {"absent", "None", "''"} & kinds, table
    id_kinds: set[str] = set()
    for table, (_, id_col) in SOURCES.items():
        id_kinds |= {"absent" if id_col not in r else repr(r[id_col]) for r in tables[table]}
    assert {"absent", "None", "''"} <= id_kinds


def test_duplicate_records(tables):
    later = exact = tie = 0
    for table, (_, id_col) in SOURCES.items():
        by_id: dict[str, list[dict]] = {}
        for row in tables[table]:
            if row.get(id_col):
                by_id.setdefault(row[id_col], []).append(row)
        for rows in by_id.values():
            if len(rows) < 2:
                continue
            a, b = rows[:2]
            if a == b:
                exact += 1
            elif _parse(a.get("created_at")) == _parse(b.get("created_at")):
                tie += 1
            else:
                later += 1
    assert later >= 5 and exact >= 3 and tie >= 3


def test_duplicate_with_offset_created_at_sorts_wrong_as_text(tables):
    found = 0
    for table, (_, id_col) in SOURCES.items():
        by_id: dict[str, list[str]] = {}
        for row in tables[table]:
            if row.get(id_col):
                by_id.setdefault(row[id_col], []).append(row.get("created_at"))
        for created in by_id.values():
            if len(created) == 2 and len({_parse(c) for c in created}) == 2:
                latest = max(created, key=_parse)
                found += latest != max(created)
    assert found >= 1


def test_duplicate_contact_rows(tables):
    counts = Counter(c["contact_id"] for c in tables["contacts"])
    twice = [cid for cid, n in counts.items() if n > 1]
    assert twice
    for cid in twice:
        rows = [c for c in tables["contacts"] if c["contact_id"] == cid]
        assert len({r["updated_at"] for r in rows}) == len(rows)


def test_session_timestamp_fallbacks(tables):
    sessions = tables["clinical_sessions"]
    to_ended = [s for s in sessions if not s.get("started_at") and s.get("ended_at")]
    to_created = [
        s
        for s in sessions
        if not s.get("started_at") and not s.get("ended_at") and s.get("created_at")
    ]
    no_fall_through = [
        s
        for s in sessions
        if s.get("started_at") and _parse(s["started_at"]) is None and _parse(s.get("ended_at"))
    ]
    assert len(to_ended) >= 3 and len(to_created) >= 2 and no_fall_through


def test_unknown_contact_ids_in_sessions_and_messages(tables):
    ids, _ = _contact_index(tables)
    for table in ("clinical_sessions", "messages", "system_events"):
        unknown = [r for r in tables[table] if r.get("contact_id") and r["contact_id"] not in ids]
        assert unknown, table


def test_orphans_and_rows_without_identity(tables):
    ids, by_email = _contact_index(tables)
    for table in ("measurement_events", "email_events", "messages", "system_events"):
        identities = [_identity(table, r) for r in tables[table]]
        assert any(e and e not in by_email for cid, e in identities if not cid), table
        assert any(not cid and not e for cid, e in identities), table


def test_mail_directions_and_subjects(tables):
    practice = set(PRACTICE_EMAILS)
    mails = tables["email_events"]
    outbound = [m for m in mails if _norm(m.get("from_email")) in practice]
    inbound = [m for m in mails if _norm(m.get("from_email")) not in practice]
    assert len(outbound) > 50 and len(inbound) > 50
    assert all(_norm(t) in practice for m in inbound for t in m["to_emails"])
    subjects = [m.get("subject") for m in mails]
    assert sum(1 for s in subjects if s == "") >= 3
    assert None in subjects
    assert sum(1 for s in subjects if s and len(s) > 50) >= 10
    assert any(s and not s[:50].isascii() for s in subjects)
    assert any(m.get("labels") == [] for m in mails) or any("labels" not in m for m in mails)


def test_quiet_contacts_and_contacts_without_forms(tables):
    ids, by_email = _contact_index(tables)
    last_session: dict[str, datetime] = {}
    for s in tables["clinical_sessions"]:
        ts = _parse(_event_timestamp("clinical_sessions", s) or "")
        if ts and s.get("contact_id") in ids:
            last_session[s["contact_id"]] = max(ts, last_session.get(s["contact_id"], ts))
    active = {c["contact_id"] for c in tables["contacts"] if c["lifecycle_stage"] == "active"}
    quiet = [c for c in active if c in last_session]
    quiet = [c for c in quiet if last_session[c] < NOW - timedelta(days=60)]
    assert quiet
    form_emails = {_norm(f.get("subject_id")) for f in tables["measurement_events"]}
    without_forms = [e for e, owners in by_email.items() if owners & active]
    assert [e for e in without_forms if e not in form_emails]
    recent = [
        f
        for f in tables["measurement_events"]
        if (p := _parse(f.get("timestamp") or "")) and p >= NOW - timedelta(days=14)
    ]
    assert recent  # "needs a form in 14 days" has both answers


def test_progress_is_called_in_chunks(tmp_path):
    calls: list[int] = []
    counts = write_demo_data(tmp_path, DemoSize(contacts=200, events=20_000), calls.append, NOW)
    assert len(calls) >= 3
    assert sum(calls) == sum(n for t, n in counts.items() if t != "contacts")


# --------------------------------------------------------------------------- loading


def test_loads_into_duckdb(demo, tmp_path):
    from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse
    from contact_events.builder.stages.load import load_directory

    directory, counts, _ = demo
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    report = load_directory(warehouse, directory)
    assert report.rows == counts
    assert not report.missing_files and not report.ignored_fields
    rows = warehouse.fetch("SELECT count(*) AS n FROM clinical_sessions")
    assert rows[0]["n"] == counts["clinical_sessions"]
