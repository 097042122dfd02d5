"""Shared rows and helpers of the pages' tests (tests/test_ui*.py).

`extra_tables()` adds what a practice's own data may hold and the pages must survive: a
client with more than two pages of events, one whose event name and payload are hostile
HTML, and names that only match without case in Unicode (Østergaard).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

MANY = "c-many"  # a client with MANY_EVENTS events: three timeline pages of 100
MANY_EVENTS = 230
HOSTILE = "c-hostile"
HOSTILE_NAME = "<script>document.title='pwned'</script>"
HOSTILE_ACTOR = "<img src=x onerror=\"document.title='pwned'\">"
NORDIC = "c-nordic"
NORDIC_EMAIL = "søren.østergaard@example.dk"


def extra_tables(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows to add to a practice (each table's rows, CONTRACT §1 flat layout)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)

    def ago(**delta: float) -> str:
        return (now - timedelta(**delta)).isoformat().replace("+00:00", "Z")

    contacts = [
        {"contact_id": MANY, "email": "many@example.org", "first_name": "Mary",
         "last_name": "Manyevents", "lifecycle_stage": "active"},
        {"contact_id": HOSTILE, "email": "hostile@example.org", "first_name": "Hal",
         "last_name": "<b>Hostile</b>", "lifecycle_stage": "active"},
        {"contact_id": NORDIC, "email": " SØREN.Østergaard@Example.DK ",
         "first_name": "Søren", "last_name": "Østergaard", "lifecycle_stage": "active"},
    ]  # fmt: skip
    messages = [
        {"message_id": f"many-{i:03d}", "channel": "sms",
         "direction": "inbound" if i % 2 else "outbound", "contact_id": MANY,
         "body_preview": f"message number {i}",
         "sent_at": ago(days=i, hours=1)}
        for i in range(MANY_EVENTS)
    ]  # fmt: skip
    system = [
        {"system_event_id": "hostile-1", "contact_id": HOSTILE, "event_name": HOSTILE_NAME,
         "actor": HOSTILE_ACTOR,
         "occurred_at": ago(days=1)},
        {"system_event_id": "nordic-1", "contact_id": NORDIC, "event_name": "Welcome Sent",
         "actor": "bot", "occurred_at": ago(days=3)},
    ]  # fmt: skip
    return {"contacts": contacts, "messages": messages, "system_events": system}


NONCE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = NONCE.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: Any, token: str, next_path: str | None = None) -> Any:
    """Sign in through the login form (a TestClient or httpx.Client); the POST's answer."""
    form = client.get("/ui/login")
    assert form.status_code == 200, form.text
    data = {"token": token, "csrf": csrf_of(form.text)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/ui/login", data=data, follow_redirects=False)
