"""The pages over the other profiles: lorchestra's billing event types get their own looks,
a practice's own event type (examples/sources: `reminder`) the neutral one, and the
status page names each profile's sources and types."""

from __future__ import annotations

import re
import sqlite3
import warnings
from pathlib import Path

import duckdb
from test_api_support import READ, make_app
from ui_support import login

from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize
from contact_events.builder.demo.lorchestra import write_lorchestra_demo_data
from contact_events.builder.engine import open_warehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent


def looks(page: str) -> list[str]:
    """The event-type look of each event row on a timeline page, in order."""
    return re.findall(r'<li class="event type--([a-z]+)">', page)


def busiest_with(mirror: Path, event_type: str) -> str:
    con = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True)
    try:
        (contact_id,) = con.execute(
            "SELECT contact_id FROM contact_events WHERE event_type = ? AND contact_id IS NOT "
            "NULL GROUP BY contact_id ORDER BY COUNT(*) DESC, contact_id LIMIT 1",
            (event_type,),
        ).fetchone()
    finally:
        con.close()
    return contact_id


def test_lorchestra_billing_events_have_their_own_looks(tmp_path):
    write_lorchestra_demo_data(tmp_path / "canonicals", DemoSize(contacts=60, events=2500))
    settings = Settings(
        profile="lorchestra",
        duckdb_path=tmp_path / "w.duckdb",
        mirror_path=tmp_path / "m.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    with open_warehouse(settings) as warehouse:
        load_directory(warehouse, tmp_path / "canonicals", profile=profile_of(settings))
    rebuild(settings, validate=False)
    payer = busiest_with(settings.mirror_path, "payment")
    with TestClient(make_app(settings), follow_redirects=False) as browser:
        assert login(browser, READ).status_code == 303
        page = browser.get(f"/ui/contacts/{payer}").text
        assert "payment" in looks(page)
        assert "other" not in looks(page)  # every lorchestra type is known
        for event_type in ("form", "session", "email", "invoice", "payment", "refund"):
            assert f'<div class="count type--{event_type}">' in page, event_type
        assert '<div class="count type--message">' not in page  # not a lorchestra type
        status = browser.get("/ui/status").text
        assert "lorchestra" in status and "<code>stripe_payment</code>" in status
        home = browser.get("/ui/").text
        assert '<option value="refund">refund</option>' in home  # gone-quiet's types


def test_a_practices_own_event_type_gets_the_neutral_look(tmp_path):
    warehouse = tmp_path / "own.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute((ROOT / "examples" / "warehouse.sql").read_text())
    con.close()
    settings = Settings(
        sources_dir=ROOT / "examples" / "sources",
        duckdb_path=warehouse,
        mirror_path=tmp_path / "own.db",
    )
    rebuild(settings, validate=False)
    with TestClient(make_app(settings), follow_redirects=False) as browser:
        assert login(browser, READ).status_code == 303
        page = browser.get("/ui/contacts/CL-1").text
        assert set(looks(page)) == {"session", "message", "other"}
        assert '<span class="tag">reminder</span>' in page
        assert '<div class="count type--other">' in page  # the reminder count
