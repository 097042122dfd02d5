"""Conditional requests: every GET answer but /health carries an ETag; If-None-Match gets a
304; a mirror swap changes the tag, an unchanged answer keeps it."""

from __future__ import annotations

import time

import pytest
from test_api_support import ADMIN, AS_OF, READ, TestClient, auth, make_app
from test_api_support import DATA_URLS as BASE_URLS

from contact_events.builder.engine import open_warehouse
from contact_events.builder.stages.sync import sync

pytest_plugins = ["test_api_support"]

DATA_URLS = [
    *(f"{url}?as_of={AS_OF}" for url in BASE_URLS),
    f"/contacts/needs-form?as_of={AS_OF}",
    f"/contacts/gone-quiet?days=10&as_of={AS_OF}",
    f"/contacts/channel-summary?as_of={AS_OF}",
    f"/contacts/c1/summary?as_of={AS_OF}",
    f"/contacts/c2/timeline?as_of={AS_OF}",
    f"/events?event_name=Form%20Reminder%20Sent&as_of={AS_OF}",
    "/contacts/c2/timeline",  # no days: the default as_of, now, is past every event
    "/events?limit=3",
    "/contacts/channel-summary",
    "/contacts/c3/summary",
]


def resync(settings) -> None:
    with open_warehouse(settings) as wh:
        sync(wh, settings.mirror_path)


def conditional(http: TestClient, url: str, tag: str):
    return http.get(url, headers={**auth(), "If-None-Match": tag})


@pytest.mark.parametrize("url", DATA_URLS)
def test_unchanged_answers_keep_their_tag_and_a_swap_changes_it(practice, url):
    with TestClient(make_app(practice)) as http:
        first = http.get(url, headers=auth())
        assert first.status_code == 200
        tag = first.headers["ETag"]
        assert tag.startswith('W/"') and tag.endswith('"')
        assert first.headers["Cache-Control"] == "private, no-cache"
        again = http.get(url, headers=auth())
        assert again.headers["ETag"] == tag and again.content.startswith(first.content[:20])

        not_modified = conditional(http, url, tag)
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["ETag"] == tag
        assert not_modified.headers["X-Ledger-Build-Id"] == first.headers["X-Ledger-Build-Id"]
        for header in (f'W/"other", {tag}', tag.removeprefix("W/"), "*"):
            assert conditional(http, url, header).status_code == 304, header
        assert conditional(http, url, 'W/"other"').status_code == 200

        time.sleep(0.002)  # a new sync time
        resync(practice)  # the same data, a new mirror file and build row
        swapped = conditional(http, url, tag)
        assert swapped.status_code == 200
        assert swapped.headers["ETag"] != tag
        assert swapped.headers["X-Ledger-Built-At"] == first.headers["X-Ledger-Built-At"]
        assert conditional(http, url, swapped.headers["ETag"]).status_code == 304


def test_the_tag_follows_everything_that_decides_the_answer(http: TestClient):
    def tag(url: str) -> str:
        response = http.get(url, headers=auth())
        assert response.status_code == 200, url
        return response.headers["ETag"]

    base = f"/contacts/needs-form?days=14&as_of={AS_OF}"
    variants = [
        base,
        base.replace("days=14", "days=13"),
        base + "&measure=phq9",
        base + "&lifecycle_stage=active",
        base + "&limit=1",
        base.replace(AS_OF, "2024-06-30T12:00:00.000001Z"),
        f"/contacts/gone-quiet?days=14&as_of={AS_OF}",
    ]
    assert len({tag(url) for url in variants}) == len(variants)
    # The same instant written another way is the same question.
    assert tag(base) == tag(base.replace(AS_OF, "2024-06-30T14:00:00%2B02:00"))
    # needs-form's cut-off moves with now: without as_of every request is a new question...
    assert tag("/contacts/needs-form") != tag("/contacts/needs-form")
    # ...until a cursor pins the instant.
    first = http.get("/contacts/needs-form?days=0&limit=1", headers=auth()).json()
    url = f"/contacts/needs-form?days=0&limit=1&cursor={first['next_cursor']}"
    assert tag(url) == tag(url)
    # Pages of one answer differ.
    assert tag(url) != tag("/contacts/needs-form?days=0&limit=1")
    # An as_of before the newest event decides the timeline; any after it is "now".
    assert tag("/contacts/c1/timeline?as_of=2024-06-30") != tag("/contacts/c1/timeline")
    assert tag("/contacts/c1/timeline?as_of=2030-01-01") == tag("/contacts/c1/timeline")


def test_future_events_make_the_default_as_of_count(mirror_factory):
    """A mirror holding an event after now: "now" decides the answer until it passes."""
    settings, _, _ = mirror_factory(
        {
            "contacts": [{"contact_id": "f1", "email": "f@example.org"}],
            "clinical_sessions": [
                {"session_id": "s1", "contact_id": "f1", "started_at": "2024-01-01T00:00:00Z"},
                {"session_id": "s2", "contact_id": "f1", "started_at": "2999-01-01T00:00:00Z"},
            ],
        }
    )
    with TestClient(make_app(settings)) as http:
        tags = {http.get("/contacts/f1/timeline", headers=auth()).headers["ETag"] for _ in "ab"}
        assert len(tags) == 2


def test_other_get_answers_are_tagged_by_their_body(http: TestClient):
    for url in ("/openapi.json", "/docs"):
        response = http.get(url)
        tag = response.headers["ETag"]
        assert http.get(url, headers={"If-None-Match": tag}).status_code == 304
    status = http.get("/status", headers=auth())
    assert status.headers["ETag"].startswith('W/"')
    job = http.post("/rebuild", headers=auth(ADMIN)).json()
    deadline = time.monotonic() + 60
    while (done := http.get(f"/rebuild/{job['job_id']}", headers=auth(READ))).json()["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tag = done.headers["ETag"]
    again = http.get(f"/rebuild/{job['job_id']}", headers={**auth(), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert "ETag" not in http.get("/health").headers


def test_errors_carry_no_tag(http: TestClient):
    for url, status in (
        ("/contacts/nobody/timeline", 404),
        ("/events?event_type=call", 400),
        ("/contacts/needs-form?days=-1", 400),
    ):
        response = http.get(url, headers={**auth(), "If-None-Match": "*"})
        assert response.status_code == status
        assert "ETag" not in response.headers
    assert "ETag" not in http.get("/events").headers  # 401
