"""The pages (/ui) over a real mirror, through the ASGI app: login and the session cookie,
CSRF, security headers, and that each page shows what the API answers. The same pages in
a real browser (axe, screenshots, keyboard, phone width): tests/test_ui_browser.py."""

from __future__ import annotations

import copy
import html
import os
import re
import sqlite3
import stat
import threading
import warnings
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from test_api_support import ADMIN, PRACTICE_TABLES, READ, READ2, auth, make_app
from ui_support import (
    HOSTILE,
    MANY,
    MANY_EVENTS,
    NORDIC,
    csrf_of,
    extra_tables,
    login,
)

from contact_events.app.core.auth import Authenticator
from contact_events.app.http.ui import charts
from contact_events.app.http.ui.pages import Pages
from contact_events.app.http.ui.session import SESSION_COOKIE, Sessions, load_or_create_key
from contact_events.builder.core.config import Settings, load_settings
from contact_events.builder.core.errors import ConfigError
from contact_events.builder.core.queries import QUERIES_DIR, read_query
from contact_events.builder.pipeline import rebuild

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PAGES = ["/ui/", "/ui/contacts/c1", "/ui/needs-form", "/ui/gone-quiet", "/ui/status"]
SECURITY = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
RECORD = re.compile(r"<code>([^<]*)</code> <code>([^<]*)</code>")


def tables() -> dict[str, list[dict[str, Any]]]:
    merged = copy.deepcopy(PRACTICE_TABLES)
    for table, rows in extra_tables().items():
        merged.setdefault(table, []).extend(rows)
    return merged


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> Settings:
    from conftest import build_mirror

    settings, _, _ = build_mirror(tmp_path_factory.mktemp("ui"), tables())
    return settings


@pytest.fixture
def client(practice: Settings):
    """A browser-like client, signed in with the read token."""
    with TestClient(make_app(practice), follow_redirects=False) as test_client:
        assert login(test_client, READ).status_code == 303
        yield test_client


def mounted(app: Any) -> Pages:
    """The pages' own state inside an app made by create_app."""
    (mount,) = [route for route in app.routes if getattr(route, "path", None) == "/ui"]
    return mount.app.state.pages


def set_cookie(response: Any, name: str) -> str:
    found = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def records(page: str) -> list[str]:
    """source_record_id of each event on a timeline page, in order."""
    return [html.unescape(record) for _system, record in RECORD.findall(page)]


def links_to_timelines(page: str) -> list[str]:
    return [unquote(cid) for cid in re.findall(r'href="/ui/contacts/([^"?]+)"', page)]


# -- the session -------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_a_stranger_to_the_login_page(practice, url):
    with TestClient(make_app(practice), follow_redirects=False) as anonymous:
        response = anonymous.get(url)
        assert response.status_code == 303
        target = urlsplit(response.headers["location"])
        assert target.path == "/ui/login"
        assert parse_qs(target.query)["next"] == [url]


def test_login_gives_a_strict_http_only_expiring_cookie_and_logout_clears_it(practice):
    with TestClient(make_app(practice), follow_redirects=False) as browser:
        response = login(browser, READ, next_path="/ui/status")
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/status"
        cookie = set_cookie(response, SESSION_COOKIE)
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "max-age", "path", "samesite"} <= attributes
        assert "secure" not in attributes  # plain http here
        assert "samesite=strict" in cookie.lower() and "path=/ui" in cookie.lower()
        assert "max-age=28800" in cookie.lower()  # CONTACT_EVENTS_SESSION_HOURS, 8
        assert READ not in cookie and READ not in response.headers["location"]
        assert browser.get("/ui/status").status_code == 200
        page = browser.get("/ui/")
        out = browser.post("/ui/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert "max-age=0" in set_cookie(out, SESSION_COOKIE).lower()
        assert browser.get("/ui/").status_code == 303


def test_the_cookie_is_secure_over_https(practice):
    app = make_app(practice)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        response = login(browser, READ)
        assert "; secure" in set_cookie(response, SESSION_COOKIE).lower()
        page = browser.get("/ui/")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=")


def test_a_wrong_token_is_refused_and_never_echoed(practice):
    wrong = "not-the-token-" + "x" * 30
    with TestClient(make_app(practice), follow_redirects=False) as browser:
        response = login(browser, wrong)
        assert response.status_code == 401
        assert "That token is not valid." in response.text
        assert wrong not in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert browser.get("/ui/").status_code == 303


def test_failed_logins_and_bad_bearer_tokens_share_one_limit(practice):
    app = make_app(practice, auth_failures_per_minute=3)
    with TestClient(app, follow_redirects=False) as browser:
        for _ in range(3):
            assert login(browser, "w" * 40).status_code == 401
        blocked = login(browser, READ)  # the right token: this address is blocked
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "try again in" in blocked.text
        assert browser.get("/status", headers=auth(READ)).status_code == 429
    app = make_app(practice, auth_failures_per_minute=3)
    with TestClient(app, follow_redirects=False) as browser:
        for _ in range(3):
            assert browser.get("/status", headers=auth("w" * 40)).status_code == 401
        assert login(browser, READ).status_code == 429


def test_a_forged_or_foreign_cookie_goes_to_the_login_page(practice, tmp_path):
    other_key = Sessions(tmp_path / "other.key", Authenticator([READ], None), 8)
    for forged in ("garbage", other_key.issue(READ)):
        with TestClient(make_app(practice), follow_redirects=False) as browser:
            browser.cookies.set(SESSION_COOKIE, forged, path="/ui")
            response = browser.get("/ui/contacts/c1")
            assert response.status_code == 303
            assert response.headers["location"].startswith("/ui/login?next=")
            assert "max-age=0" in set_cookie(response, SESSION_COOKIE).lower()


def test_a_session_expires(practice):
    app = make_app(practice)
    with TestClient(app, follow_redirects=False) as browser:
        assert login(browser, READ).status_code == 303
        assert browser.get("/ui/").status_code == 200
        sessions = mounted(app).sessions
        real = sessions.clock
        sessions.clock = lambda: real() + 8 * 3600 + 1
        assert browser.get("/ui/").status_code == 303


def test_a_revoked_token_ends_its_sessions(practice):
    """The cookie keeps the token's fingerprint; each request checks it against the
    tokens configured now (here: a restart without READ2; the key file is shared)."""
    with TestClient(make_app(practice), follow_redirects=False) as browser:
        assert login(browser, READ2).status_code == 303
        cookie = browser.cookies.get(SESSION_COOKIE)
    for tokens, expected in (([READ, READ2], 200), ([READ], 303)):
        with TestClient(make_app(practice, api_tokens=tokens), follow_redirects=False) as again:
            again.cookies.set(SESSION_COOKIE, cookie, path="/ui")
            assert again.get("/ui/").status_code == expected


def test_the_session_key_is_made_once_owner_only(tmp_path: Path):
    path = tmp_path / "m.db.session-key"
    first = load_or_create_key(path)
    assert len(first) >= 32 and load_or_create_key(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.write_bytes(b"short")  # damaged: replaced by a new key
    assert len(load_or_create_key(path)) >= 32
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


def test_posts_need_the_csrf_nonce_and_must_come_from_our_pages(client):
    page = client.get("/ui/")
    nonce = csrf_of(page.text)
    assert client.post("/ui/", data={"q": "ada"}).status_code == 400
    assert client.post("/ui/", data={"q": "ada", "csrf": "x" + nonce}).status_code == 400
    cross = client.post(
        "/ui/", data={"q": "ada", "csrf": nonce}, headers={"sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 400 and "another site" in cross.text
    evil = client.post(
        "/ui/", data={"q": "ada", "csrf": nonce}, headers={"origin": "https://x.example"}
    )
    assert evil.status_code == 400
    ours = client.post(
        "/ui/", data={"q": "ada", "csrf": nonce}, headers={"sec-fetch-site": "same-origin"}
    )
    assert ours.status_code == 200
    no_job = client.post("/ui/status/rebuild", data={"admin_token": ADMIN})
    assert no_job.status_code == 400  # no nonce: nothing started


def test_login_needs_its_form_nonce(practice):
    with TestClient(make_app(practice), follow_redirects=False) as browser:
        response = browser.post("/ui/login", data={"token": READ, "csrf": "made-up"})
        assert response.status_code == 400
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [("/ui/status", "/ui/status"),
     ("/ui/contacts/c1?event_type=form", "/ui/contacts/c1?event_type=form"),
     ("https://evil.example/ui/", "/ui/"), ("//evil.example/ui/", "/ui/"), ("/docs", "/ui/"),
     ("/ui\\..\\docs", "/ui/")],
)  # fmt: skip
def test_after_login_the_browser_only_goes_to_a_page_of_ours(practice, next_path, expected):
    with TestClient(make_app(practice), follow_redirects=False) as browser:
        assert login(browser, READ, next_path=next_path).headers["location"] == expected


# -- what every answer carries ---------------------------------------------------------------


def test_every_page_sends_the_security_headers(client):
    answers = [client.get(url) for url in PAGES]
    answers += [
        client.get("/ui/login"),
        client.get("/ui/no-such-page"),
        client.get("/ui/static/ui.css"),
    ]
    for response in answers:
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp
        assert "script" not in csp  # no script source at all: default-src 'none' applies
        assert "frame-ancestors 'none'" in csp
        for name, value in SECURITY.items():
            if name == "cache-control" and response.url.path.startswith("/ui/static/"):
                continue
            assert response.headers[name] == value, (response.url, name)
        assert "etag" not in response.headers or response.url.path.startswith("/ui/static/")
    assert answers[-2].status_code == 404 and "There is no such page." in answers[-2].text
    assert answers[-1].headers["content-type"].startswith("text/css")


def test_the_json_api_is_as_it_was(client):
    response = client.get("/contacts/c1/timeline", headers=auth(READ))
    assert response.status_code == 200 and "etag" in response.headers
    assert response.headers["cache-control"] == "private, no-cache"
    assert "content-security-policy" not in response.headers
    assert not [p for p in client.get("/openapi.json").json()["paths"] if p.startswith("/ui")]


def test_no_page_has_a_script(client):
    for url in PAGES:
        page = client.get(url).text
        assert "<script" not in page.lower() and " style=" not in page.lower(), url


# -- a client's timeline ------------------------------------------------------------------


def test_the_timeline_pages_are_the_apis_pages(client):
    """Each page holds the API's page for the same cursor; "older" carries the cursor."""
    url = f"/ui/contacts/{MANY}"
    seen: list[str] = []
    cursor = None
    for page_number in range(1, 5):
        page = client.get(url)
        assert page.status_code == 200
        query = [("limit", "100")] + ([("cursor", cursor)] if cursor else [])
        api = client.get(f"/contacts/{MANY}/timeline", params=query, headers=auth(READ)).json()
        expected = [item["source_record_id"] for item in api["items"]]
        assert records(page.text) == expected, page_number
        seen += expected
        assert ("Newest events" in page.text) == (page_number > 1)
        older = re.search(r'href="([^"]+)" rel="next">Older events', page.text)
        if api["next_cursor"] is None:
            assert older is None
            break
        url = html.unescape(older.group(1))
        (cursor,) = parse_qs(urlsplit(url).query)["cursor"]
    assert len(seen) == MANY_EVENTS == len(set(seen))
    assert page_number == 3


def test_the_overview_counts_and_the_weekly_strip(client):
    page = client.get(f"/ui/contacts/{MANY}").text
    summary = client.get(f"/contacts/{MANY}/summary", headers=auth(READ)).json()
    assert summary["counts"]["message"] == MANY_EVENTS
    for event_type, n in summary["counts"].items():
        assert re.search(rf"<span>{event_type}</span></dt><dd>{n:,}</dd>", page), event_type
    # every event of the last 53 weeks is in a bar, each bar titled with its week
    assert f"Events per week over the last year: {MANY_EVENTS} in " in page
    assert len(re.findall(r"<rect class=\"bar", page)) == 53


def test_times_are_shown_in_the_display_zone_with_utc_on_hover(practice):
    app = make_app(practice, display_tz="America/New_York")
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, READ)
        page = browser.get("/ui/contacts/c1").text
        # m2: 2024-06-01T00:00:00Z is the evening before in New York
        assert (
            '<time datetime="2024-06-01T00:00:00.000000Z" title="2024-06-01 00:00:00 UTC">'
            'Fri 31 May 2024, 20:00 <span class="tz">EDT</span></time>'
        ) in page
        assert "Times are shown in America/New_York" in page
        # local days: from 1 June (New York) leaves m2 (31 May there) out
        both = browser.get("/ui/contacts/c1?from=2024-06-01&to=2024-06-20")
        assert records(both.text) == ["m1"]


def test_the_timeline_filters_by_type_and_day(client):
    forms = client.get("/ui/contacts/c1?event_type=form").text
    api = client.get("/contacts/c1/timeline?event_type=form", headers=auth(READ)).json()
    assert (
        records(forms) == [item["source_record_id"] for item in api["items"]] == ["m6", "m1", "m2"]
    )
    ranged = client.get("/ui/contacts/c1?from=2024-06-01&to=2024-06-20").text
    assert records(ranged) == ["m1", "m2"]  # UTC days here; "to" includes its day
    backwards = client.get("/ui/contacts/c1?from=2024-06-20&to=2024-06-01")
    assert "“From” is after “To”." in backwards.text and records(backwards.text) == []
    not_a_date = client.get("/ui/contacts/c1?from=yesterday")
    assert "is not a date" in not_a_date.text
    far = client.get("/ui/contacts/c1?to=9999-12-31")
    assert far.status_code == 200 and "out of range" in far.text
    unknown = client.get("/ui/contacts/c1?event_type=invoice")
    assert "the mirror's event types" in html.unescape(unknown.text)  # the API's 400, shown
    # the filter form posts; without searched text the answer is the bookmarkable page
    nonce = csrf_of(client.get("/ui/contacts/c1").text)
    posted = client.post(
        "/ui/contacts/c1",
        data={"csrf": nonce, "event_type": "form", "from": "", "to": "2024-06-20"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/ui/contacts/c1?event_type=form&to=2024-06-20"


def test_a_hostile_payload_is_shown_as_text(client):
    page = client.get(f"/ui/contacts/{HOSTILE}").text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page  # the payload's actor, as JSON text
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;b&gt;Hostile&lt;/b&gt;" in page  # the name too


def test_an_unknown_contact_is_a_404_page(client):
    response = client.get("/ui/contacts/nobody-has-this-id")
    assert response.status_code == 404 and "No contact has this id." in response.text


# -- finding a client and the lists --------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("c-nordic", NORDIC), ("østergaard", NORDIC), ("SØREN", NORDIC),
     ("  SØREN.Østergaard@EXAMPLE.dk ", NORDIC), ("lovelace ada", "c1"), ("ADA@example.ORG", "c1")],
)  # fmt: skip
def test_find_a_client_by_id_email_or_name(client, typed, expected):
    nonce = csrf_of(client.get("/ui/").text)
    page = client.post("/ui/", data={"q": typed, "csrf": nonce})
    assert page.status_code == 200  # rendered from the post: the text is in no URL
    assert links_to_timelines(page.text) == [expected]
    assert "client found" in page.text


def test_find_asks_for_two_characters_and_says_when_nothing_matches(client):
    nonce = csrf_of(client.get("/ui/").text)
    assert "at least 2 characters" in client.post("/ui/", data={"q": "a", "csrf": nonce}).text
    none = client.post("/ui/", data={"q": "zzzz-nobody", "csrf": nonce}).text
    assert "No client has that name, email or id." in none


def test_the_lists_are_the_apis_answers(client):
    for page_url, api_url in (
        ("/ui/needs-form?days=14", "/contacts/needs-form?days=14"),
        ("/ui/needs-form?days=14&measure=phq9", "/contacts/needs-form?days=14&measure=phq9"),
        (
            "/ui/gone-quiet?days=30&event_type=session",
            "/contacts/gone-quiet?days=30&event_type=session",
        ),
    ):
        page = client.get(page_url)
        assert page.status_code == 200
        api = client.get(api_url, headers=auth(READ)).json()
        assert links_to_timelines(page.text) == [item["contact_id"] for item in api["items"]]
        assert api["items"], api_url
    bad = client.get("/ui/needs-form?days=-1").text
    assert "days: Input should be greater than or equal to 0" in bad
    typo = client.get("/ui/gone-quiet?lifecycle_stage=actve").text
    assert "no contact&#39;s lifecycle_stage in the mirror is" in typo


def test_the_start_page_offers_the_mirrors_measures_stages_and_types(client):
    page = client.get("/ui/").text
    for value in ("phq9", "gad7", "discharged", "lead", "session", "system"):
        assert f'<option value="{value}">' in page, value


def test_choices_that_take_too_long_become_text_fields(client, monkeypatch):
    from contact_events.app.http.ui import data
    from contact_events.app.pool.db import QueryTimeout

    def too_slow(db):
        raise QueryTimeout(5000)

    monkeypatch.setattr(data, "_choices", too_slow)
    page = client.get("/ui/needs-form?measure=phq9")
    assert page.status_code == 200
    assert '<input id="l-measure" name="measure" type="text" value="phq9"' in page.text
    assert links_to_timelines(page.text)  # the list itself is answered


# -- the ledger's health -----------------------------------------------------------------


def test_the_status_page_shows_the_build_and_browses_the_rejects(client):
    status = client.get("/status", headers=auth(READ)).json()
    page = client.get("/ui/status").text
    assert status["build"]["build_id"] in page
    for source, n in status["rows_by_source"].items():
        assert f'<code>{source}</code></td><td class="num">{n:,}</td>' in page
    assert status["rejects_by_reason"]["orphan"] == 2
    assert "Rejects and warnings by reason: missing_record_id 0" in page
    orphans = client.get("/ui/status?reason=orphan").text
    rows = re.findall(r"<td>(error|warning)</td>\s*<td>([a-z_]+)</td>", orphans)
    assert rows and {reason for _, reason in rows} == {"orphan"} and len(rows) == 2
    sources = client.get("/ui/status?reason=orphan&source=measurement_events").text
    assert len(re.findall(r"<td>orphan</td>", sources)) == 1


def test_rebuild_now_needs_the_admin_token_and_starts_the_apis_job(practice):
    gate = threading.Event()

    def gated(settings: Settings):
        assert gate.wait(60)
        return rebuild(settings, validate=False)

    app = make_app(practice, rebuild_runner=gated)
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, READ)
        nonce = csrf_of(browser.get("/ui/status").text)
        read = browser.post("/ui/status/rebuild", data={"csrf": nonce, "admin_token": READ})
        assert read.status_code == 403 and "needs the admin token" in read.text
        wrong = browser.post("/ui/status/rebuild", data={"csrf": nonce, "admin_token": "z" * 40})
        assert wrong.status_code == 401 and "z" * 40 not in wrong.text
        started = browser.post("/ui/status/rebuild", data={"csrf": nonce, "admin_token": ADMIN})
        assert started.status_code == 303
        job_id = parse_qs(urlsplit(started.headers["location"]).query)["job"][0]
        same = browser.post("/rebuild", headers=auth(ADMIN)).json()
        assert same["job_id"] == job_id  # one job: the API's single flight
        page = browser.get(started.headers["location"]).text
        assert f"Rebuild <code>{job_id}</code> started" in page and job_id in page
        gate.set()
        for _ in range(600):
            job = browser.get(f"/rebuild/{job_id}", headers=auth(READ)).json()
            if job["state"] in ("succeeded", "failed"):
                break
            threading.Event().wait(0.1)
        assert job["state"] == "succeeded", job
        assert re.search(r'state--succeeded">succeeded', browser.get("/ui/status").text)


def test_rebuild_now_is_off_without_an_admin_token(practice):
    app = make_app(practice, admin_token=None)
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, READ)
        page = browser.get("/ui/status").text
        assert "Rebuilding from here is off" in page and "Rebuild now</button>" not in page
        posted = browser.post(
            "/ui/status/rebuild", data={"csrf": csrf_of(page), "admin_token": ADMIN}
        )
        assert posted.status_code == 403


# -- settings ------------------------------------------------------------------------------


def test_a_bad_display_zone_is_one_line_naming_the_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTACT_EVENTS_DISPLAY_TZ", "Europe/Lodnon")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "CONTACT_EVENTS_DISPLAY_TZ" in message and "Europe/Lodnon" in message
    assert "\n" not in message


# -- the pages' SQL and charts ---------------------------------------------------------------

UI_QUERIES = sorted(path.stem for path in (QUERIES_DIR / "ui").glob("*.sql"))
SAMPLE = {
    "contact": {"contact_id": "c1"},
    "contact_weeks": {"contact_id": MANY, "since": "2000-01-01 00:00:00.000000",
                      "as_of": "2999-01-01 00:00:00.000000", "shift": "+0 minutes"},
    "find_contacts": {"text": "c", "like": "%c%", "email": "ada", "by_name": '["c2"]',
                      "limit": 100},
    "contact_names": {},
    "list_choices": {},
    "rejects": {"reason": None, "source": None, "after": 0, "limit": 51},
    "reject_sources": {},
}  # fmt: skip


def test_every_pages_query_has_sample_parameters():
    assert set(UI_QUERIES) == set(SAMPLE)


@pytest.mark.parametrize("name", UI_QUERIES)
def test_the_pages_sql_files_are_readable_and_run(practice, name):
    text = read_query(f"ui/{name}")
    assert text.startswith("-- "), "a comment header says what the query answers"
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert "?" not in code and "{" not in code and "%s" not in code
    header = "\n".join(line for line in text.splitlines() if line.startswith("--"))
    for param in set(re.findall(r":([a-z_]+)", code)):
        assert f":{param}" in header, f"{name}: :{param} is not documented in the header"
    con = sqlite3.connect(f"file:{practice.mirror_path}?mode=ro", uri=True)
    try:
        assert con.execute(text, SAMPLE[name]).fetchall()
    finally:
        con.close()


def test_the_weekly_counts_read_one_contacts_rows_by_index(practice):
    con = sqlite3.connect(f"file:{practice.mirror_path}?mode=ro", uri=True)
    try:
        plan = " ".join(
            row[3]
            for row in con.execute(
                "EXPLAIN QUERY PLAN " + read_query("ui/contact_weeks"), SAMPLE["contact_weeks"]
            )
        )
        weeks = con.execute(read_query("ui/contact_weeks"), SAMPLE["contact_weeks"]).fetchall()
    finally:
        con.close()
    assert "contact_events_contact_time" in plan
    assert sum(n for _, n in weeks) == MANY_EVENTS
    assert all(date.fromisoformat(week).weekday() == 0 for week, _ in weeks)  # Mondays


def test_the_activity_strip():
    strip = charts.activity_strip({"2024-06-03": 4, "2024-06-10": 1}, date(2024, 6, 12))
    assert len(strip.bars) == charts.WEEKS
    last, before = strip.bars[-1], strip.bars[-2]
    assert (last.count, before.count) == (1, 4)
    assert before.height == charts.STRIP_HEIGHT and before.y == 0  # the busiest: full height
    assert 2 < last.height < before.height
    assert {bar.height for bar in strip.bars[:-2]} == {2}  # empty weeks: a stub
    assert last.label == "week of 10 Jun 2024: 1 event"
    assert strip.summary == (
        "Events per week over the last year: 5 in 2 of 53 weeks; the busiest, week of "
        "3 Jun 2024, had 4."
    )
    assert "none in the last 53 weeks" in charts.activity_strip({}, date(2024, 6, 12)).summary
    assert strip.months[0].text == "Jun" and strip.months[1].text == "Jul"


def test_the_bar_chart():
    chart = charts.bar_chart({"a": 10, "b": 0, "c": 5, "orphan": 1}, ("orphan",))
    assert [bar.width for bar in chart.bars] == [charts.BAR_MAX, 0, charts.BAR_MAX // 2, 30]
    assert [bar.warning for bar in chart.bars] == [False, False, False, True]
    assert chart.summary == "Rejects and warnings by reason: a 10, b 0, c 5, orphan 1."


def test_without_a_mirror_the_pages_say_so(tmp_path):
    settings = Settings(mirror_path=tmp_path / "none.db", duckdb_path=tmp_path / "w.duckdb")
    with TestClient(make_app(settings), follow_redirects=False) as browser:
        assert login(browser, READ).status_code == 303  # signing in needs no mirror
        page = browser.get("/ui/")
        assert page.status_code == 503
        assert "The ledger is not available" in page.text and "contact-events run" in page.text
        assert page.headers["cache-control"] == "no-store"


def test_find_shows_the_exact_id_first_and_says_when_there_are_more(client, monkeypatch):
    from contact_events.app.http.ui import data

    monkeypatch.setattr(data, "FIND_LIMIT", 2)
    nonce = csrf_of(client.get("/ui/").text)
    page = client.post("/ui/", data={"q": "c-many", "csrf": nonce}).text
    assert links_to_timelines(page)[0] == MANY  # "Mary Manyevents" by id, first
    many = client.post("/ui/", data={"q": "example", "csrf": nonce}).text  # every email
    assert len(links_to_timelines(many)) == 2
    assert "2+ clients found (the first 2; type more to narrow)" in many


ODD = ["", " ", "x" * 600, "\x00", "'; DROP TABLE contacts; --", "<script>", "2024-13-45",
       "0001-01-01", "9999-12-31", "Ø", "-1", "1e9", "eyJ2IjoxLCJrIjoi"]  # fmt: skip
ODD_PARAMS = {
    "/ui/contacts/c1": ("event_type", "from", "to", "cursor"),
    "/ui/needs-form": ("days", "measure", "lifecycle_stage", "cursor"),
    "/ui/gone-quiet": ("days", "event_type", "lifecycle_stage", "cursor"),
    "/ui/status": ("reason", "source", "after"),
}


@pytest.mark.parametrize("path", list(ODD_PARAMS))
def test_odd_parameters_never_break_a_page(client, path):
    for name in ODD_PARAMS[path]:
        for value in ODD:
            response = client.get(path, params={name: value})
            assert response.status_code < 500, (path, name, value)
    nonce = csrf_of(client.get("/ui/").text)
    for value in ODD:
        assert client.post("/ui/", data={"q": value, "csrf": nonce}).status_code == 200
        posted = client.post("/ui/contacts/c1", data={"csrf": nonce, "from": value, "q": value})
        assert posted.status_code in (200, 303), value
