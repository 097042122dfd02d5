"""Shared data and fixtures of the API tests (imported by tests/test_api_*.py).

The practice below is hand-written so every answer can be checked row by row; the
comments give each row's role. AS_OF is the instant most questions are asked at.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import BaseModel

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 in its TestClient; httpx works the same for these tests.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from contact_events.app.canned.table import ROUTES
from contact_events.app.http.main import create_app
from contact_events.builder.core.config import Settings
from contact_events_client import ContactEventsClient

READ = "read-token-1-for-the-tests-000000000000"  # 32+ characters
READ2 = "read-token-2-for-the-tests-000000000000"
ADMIN = "admin-token-for-the-tests-0000000000000"
AS_OF = "2024-06-30T12:00:00Z"


# One request of every data route (a token needed, the mirror read), on the test practice.
def as_sent(value: Any) -> Any:
    """A client model or value as the API sent it: its datetimes (the client's timestamps)
    in the API's own RFC 3339 text, fixed width with microseconds and `Z`."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(as_sent(v) for v in value)
    return value


# Made from the route declarations, so a new route is in every test that walks them.
DATA_URLS = [
    *(canned.path.replace("{contact_id}", "c1") for canned in ROUTES.entries),
    "/events?contact_id=c1",
]

CONTACTS = [
    {"contact_id": "c1", "email": "ada@example.org", "first_name": "Ada",
     "last_name": "Lovelace", "lifecycle_stage": "active"},
    {"contact_id": "c2", "email": "bob@example.org", "first_name": "Bob",
     "last_name": "Babbage", "lifecycle_stage": "active"},
    {"contact_id": "c3", "email": "cy@example.org", "first_name": "Cy",
     "last_name": "Young", "lifecycle_stage": "discharged"},
    {"contact_id": "c4", "email": "dee@example.org", "first_name": "Dee",
     "last_name": "Dee", "lifecycle_stage": "lead"},  # no events at all
    {"contact_id": "c5", "email": "eve@example.org", "first_name": "Eve",
     "last_name": "Evans", "lifecycle_stage": "active"},
]  # fmt: skip

PRACTICE_TABLES: dict[str, list[dict[str, Any]]] = {
    "contacts": CONTACTS,
    "measurement_events": [
        {"measurement_event_id": "m1", "subject_id": "ada@example.org", "measure_id": "phq9",
         "form_id": "f-phq9", "timestamp": "2024-06-20T12:00:00Z"},
        {"measurement_event_id": "m2", "subject_id": "ada@example.org", "measure_id": "gad7",
         "timestamp": "2024-06-01T00:00:00Z"},
        # exactly 14 days before AS_OF: at the cut-off, so not "before" it
        {"measurement_event_id": "m3", "subject_id": "bob@example.org", "measure_id": "phq9",
         "timestamp": "2024-06-16T12:00:00Z"},
        # same instant as y3: the tie is broken by source_system
        {"measurement_event_id": "m4", "subject_id": "cy@example.org", "measure_id": "phq9",
         "timestamp": "2024-05-01T00:00:00Z"},
        # orphan: no contact has this email
        {"measurement_event_id": "m5", "subject_id": "nobody@example.org", "measure_id": "phq9",
         "timestamp": "2024-06-25T00:00:00Z"},
        # after AS_OF: never counts for AS_OF questions
        {"measurement_event_id": "m6", "subject_id": "ada@example.org", "measure_id": "phq9",
         "timestamp": "2024-07-05T00:00:00Z"},
        {"measurement_event_id": "m7", "subject_id": "eve@example.org", "measure_id": "gad7",
         "timestamp": "2024-06-29T00:00:00+02:00"},  # 2024-06-28T22:00:00Z
    ],
    "clinical_sessions": [
        {"session_id": "s1", "contact_id": "c1", "status": "Session Completed",
         "session_num": 3, "idem_key": "k1", "started_at": "2024-06-25T09:00:00Z"},
        # same instant as e1 (Bob): sessions sort before emails
        {"session_id": "s2", "contact_id": "c2", "status": "Session Completed",
         "session_num": 1, "started_at": "2024-05-10T09:00:00Z"},
        {"session_id": "s3", "contact_id": "c3", "status": "Session Cancelled",
         "session_num": 7, "started_at": "2024-03-01T09:00:00Z"},
        {"session_id": "s4", "contact_id": "c5", "status": "Session Completed",
         "session_num": 2, "started_at": "2024-06-29T10:00:00Z"},
    ],
    "email_events": [
        {"email_event_id": "e1", "provider": "gmail", "from_email": "front@practice.example",
         "to_emails": ["bob@example.org"], "subject": "Reminder", "thread_id": "t1",
         "labels": ["SENT"], "sent_at": "2024-05-10T09:00:00Z"},
        {"email_event_id": "e2", "provider": "outlook", "from_email": "cy@example.org",
         "to_emails": ["front@practice.example"], "subject": "Re: hello",
         "sent_at": "2024-03-01T09:00:00Z"},
    ],
    "messages": [
        {"message_id": "x1", "channel": "sms", "direction": "outbound", "contact_id": "c3",
         "body_preview": "See you", "sent_at": "2024-02-01T00:00:00Z"},
        # exactly AS_OF: counts (events *after* as_of do not)
        {"message_id": "x2", "channel": "whatsapp", "direction": "inbound",
         "contact_email": "ada@example.org", "sent_at": "2024-06-30T12:00:00Z"},
        # one microsecond after AS_OF: does not count
        {"message_id": "x3", "channel": "sms", "direction": "inbound", "contact_id": "c1",
         "sent_at": "2024-06-30T12:00:00.000001Z"},
    ],
    "system_events": [
        {"system_event_id": "y1", "contact_id": "c2", "event_name": "Form Reminder Sent",
         "actor": "bot", "occurred_at": "2024-06-01T08:00:00Z"},
        # orphan reminder: only /events shows it
        {"system_event_id": "y2", "contact_email": "ghost@example.org",
         "event_name": "Form Reminder Sent", "actor": "bot",
         "occurred_at": "2024-06-02T08:00:00Z"},
        {"system_event_id": "y3", "contact_id": "c3", "event_name": "Form Reminder Sent",
         "actor": "bot", "occurred_at": "2024-05-01T00:00:00Z"},
    ],
}  # fmt: skip


def client_for(app: Any, token: str | None = READ) -> tuple[TestClient, ContactEventsClient]:
    test_client = TestClient(app, raise_server_exceptions=True)
    return test_client, ContactEventsClient("http://testserver", token, client=test_client)


def make_app(settings: Settings, *, rebuild_runner: Any = None, **overrides: Any) -> Any:
    """The app over `settings`' mirror with the test tokens (and any Settings overrides)."""
    values = {"api_tokens": [READ, READ2], "admin_token": ADMIN, **overrides}
    return create_app(settings.model_copy(update=values), rebuild_runner=rebuild_runner)


@pytest.fixture
def practice(mirror_factory) -> Settings:
    settings, _report, _synced = mirror_factory(PRACTICE_TABLES)
    return settings


@pytest.fixture
def api(practice: Settings) -> Iterator[ContactEventsClient]:
    """A client (read token) on the practice mirror; lifespan running."""
    test_client, client = client_for(make_app(practice))
    with test_client:
        yield client


@pytest.fixture
def http(practice: Settings) -> Iterator[TestClient]:
    """A raw TestClient on the practice mirror; send headers yourself."""
    with TestClient(make_app(practice)) as test_client:
        yield test_client


def auth(token: str = READ) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ids(page: Any, key: str = "contact_id") -> list[Any]:
    """`key` of each item of a page the client returned (a model with `items`)."""
    return [getattr(item, key) for item in page.items]


def record_ids(page: Any) -> list[str]:
    return [item.source_record_id for item in page.items]


def write_corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


class Server:
    """The app served by a real uvicorn on 127.0.0.1 (a free port) in a thread:
    `with Server(app) as base_url: ...`."""

    def __init__(self, app: Any, timeout: float = 60.0) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.timeout = timeout

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + self.timeout
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(self.timeout)
