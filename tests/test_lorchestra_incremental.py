"""lorchestra: incremental build + sync == full rebuild, row for row, after any sequence of
changes, on DuckDB (a property) and on BigQuery (a fixed sequence through the emulator).

Changes are what re-ingestion brings to canonical_objects and measurement_events: new
and re-ingested objects, contacts and customers whose email changes (which re-resolves
payments and refunds through their chains without touching their own rows), billing
chains that break and mend, and objects deleted upstream.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import test_incremental as flat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lorchestra_rows import contact, measurement, obj

from conftest import PRACTICE
from contact_events.builder.engine.adapters.duckdb import DuckDBWarehouse

T0 = datetime(2025, 1, 1, tzinfo=UTC)
EMAILS = ["a@x.example", "b@x.example", "shared@x.example", "nobody@x.example", "  "]
CONTACTS = ["c1", "c2", "c3"]
CUSTOMERS = ["cus1", "cus2", "cus3"]
PAYMENTS = ["pi1", "pi2", "pi3"]

change = st.one_of(
    st.tuples(st.just("contact"), st.sampled_from(CONTACTS), st.sampled_from(EMAILS[:4])),
    st.tuples(st.just("customer"), st.sampled_from(CUSTOMERS), st.sampled_from(EMAILS)),
    st.tuples(
        st.just("payment"),
        st.sampled_from(PAYMENTS),
        st.sampled_from([*CUSTOMERS, "cus404", None]),
        st.sampled_from(["succeeded", "failed"]),
    ),
    st.tuples(
        st.just("refund"), st.sampled_from(["re1", "re2"]), st.sampled_from([*PAYMENTS, None])
    ),
    st.tuples(
        st.just("session"),
        st.sampled_from(["s1", "s2", None]),
        st.sampled_from([*CONTACTS, "ghost"]),
        st.sampled_from(["ok", "bad"]),
    ),
    st.tuples(st.just("form"), st.sampled_from(["m1", "m2"]), st.sampled_from(EMAILS)),
    st.tuples(
        st.just("delete"),
        st.sampled_from(["payment_id:pi1", "customer_id:cus1", "session_id:s1", "m1"]),
    ),
)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def apply(tables: dict[str, list[dict]], step: int, ops) -> None:
    """Append the rows one ingestion step brings (created_at moves forward each step)."""
    now = T0 + timedelta(days=3 * step)
    for n, op in enumerate(ops):
        created = iso(now + timedelta(minutes=n))
        objects = tables["canonical_objects"]
        kind = op[0]
        if kind == "delete":
            target = op[1]
            if ":" in target:
                key, value = target.split(":")
                tables["canonical_objects"] = [r for r in objects if r["payload"].get(key) != value]
            else:
                tables["measurement_events"] = [
                    r for r in tables["measurement_events"] if r["measurement_event_id"] != target
                ]
        elif kind == "contact":
            objects.append(contact(op[1], op[2], updated_at=created, created_at=created))
        elif kind == "customer":
            objects.append(obj("customer", {"customer_id": op[1], "email": op[2]}, created))
        elif kind == "payment":
            _, pid, cid, status = op
            payload = {"payment_id": pid, "status": status, "event_time": created, "amount": 10}
            if cid is not None:
                payload["customer_id"] = cid
            objects.append(obj("payment", payload, created))
        elif kind == "refund":
            _, rid, pid = op
            payload = {"refund_id": rid, "status": "succeeded", "event_time": created}
            if pid is not None:
                payload["payment_intent_id"] = pid
            objects.append(obj("refund", payload, created))
        elif kind == "session":
            _, sid, cid, ts = op
            payload = {"contact_id": cid, "started_at": created if ts == "ok" else "soon"}
            if sid is not None:
                payload["session_id"] = sid
            objects.append(obj("clinical_session", payload, created))
        else:
            _, mid, email = op
            tables["measurement_events"].append(
                measurement(mid, email, occurred_at=created, processed_at=created)
            )


def run_sequence(root: Path, steps, inc_wh, full_wh) -> None:
    flat.run_sequence(
        root,
        steps,
        inc_wh,
        full_wh,
        apply=apply,
        tables={
            "canonical_objects": [contact("c1", "a@x.example", updated_at=iso(T0))],
            "measurement_events": [],
        },
        profile="lorchestra",
        practice_emails=[PRACTICE],
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.lists(change, min_size=1, max_size=6), min_size=2, max_size=4))
def test_lorchestra_incremental_equals_full_on_duckdb(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("inc")
    with (
        DuckDBWarehouse(root / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(root / "full.duckdb") as full_wh,
    ):
        run_sequence(root, steps, inc_wh, full_wh)


# A customer's new email moves a payment and its refund to another contact although
# neither row changed: the staged rows of the two records differ, so both are re-resolved.
CHAIN_STEPS = [
    [
        ("contact", "c2", "b@x.example"),
        ("customer", "cus1", "a@x.example"),
        ("payment", "pi1", "cus1", "succeeded"),
        ("refund", "re1", "pi1"),
        ("payment", "pi2", "cus404", "failed"),
        ("session", "s1", "c1", "ok"),
        ("form", "m1", "a@x.example"),
    ],
    [
        ("customer", "cus1", "b@x.example"),  # pi1 and re1 now belong to c2
        ("customer", "cus404", "  "),  # pi2: no customer -> a customer without email
        ("session", "s1", "ghost", "ok"),  # an unknown contact: a reject now
    ],
    [
        ("delete", "payment_id:pi1"),  # re1's chain breaks: no such payment
        ("delete", "m1"),
        ("contact", "c3", "shared@x.example"),
    ],
]


def test_a_customer_email_change_moves_payments_incrementally(tmp_path):
    with (
        DuckDBWarehouse(tmp_path / "inc.duckdb") as inc_wh,
        DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh,
    ):
        run_sequence(tmp_path, CHAIN_STEPS[:2], inc_wh, full_wh)
        rows = inc_wh.fetch(
            "SELECT source_record_id, contact_id FROM proj_contact_events "
            "WHERE source_system IN ('stripe_payment', 'stripe_refund') ORDER BY 1"
        )
    assert rows == [
        {"source_record_id": "pi1", "contact_id": "c2"},
        {"source_record_id": "pi2", "contact_id": None},
        {"source_record_id": "re1", "contact_id": "c2"},
    ]


def test_lorchestra_incremental_equals_full_on_bigquery(tmp_path, bigquery_warehouse):
    with DuckDBWarehouse(tmp_path / "full.duckdb") as full_wh:
        run_sequence(tmp_path, CHAIN_STEPS, bigquery_warehouse, full_wh)
