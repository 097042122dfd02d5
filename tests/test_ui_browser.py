"""The pages in a real headless Chromium (Debian's `chromium`, driven by Playwright's
Python API) against a real `contact-events serve` on 127.0.0.1 over a synced demo
practice (plus tests/ui_support.py's rows: a client with three pages of events, a
hostile payload, Unicode names).

One browser for the session, one served app for the module. Each page is checked by
axe-core (no serious or critical violations) and photographed into tests/artifacts/
(not committed; docs/ui-timeline.png is one of these). In CI (CI=true) a missing
chromium fails with one line; elsewhere these tests are skipped with that line.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from ui_support import HOSTILE, HOSTILE_NAME, MANY, MANY_EVENTS, extra_tables

from contact_events.builder.core.config import Settings
from contact_events.builder.demo.flat import PRACTICE_EMAILS, DemoSize, write_demo_data
from contact_events.builder.engine import open_warehouse
from contact_events.builder.pipeline import rebuild
from contact_events.builder.stages.load import load_directory
from contact_events.builder.stages.profiles import profile_of

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READ = "ui-read-token-" + "r" * 32
ADMIN = "ui-admin-token-" + "a" * 32
ZONE = "Europe/London"
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")
AXE_FOUND: dict[str, list[tuple[str, str, int]]] = {}  # every finding, in artifacts/axe.json


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        message = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_mirror(root: Path) -> Settings:
    """The demo practice (small), with the extra rows appended, loaded, built, synced."""
    canonicals = root / "canonicals"
    write_demo_data(canonicals, DemoSize(contacts=120, events=3000))
    for table, rows in extra_tables().items():
        with (canonicals / f"{table}.jsonl").open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    settings = Settings(
        duckdb_path=root / "warehouse.duckdb",
        mirror_path=root / "contact_events.db",
        practice_emails=list(PRACTICE_EMAILS),
    )
    with open_warehouse(settings) as warehouse:
        load_directory(warehouse, canonicals, profile=profile_of(settings))
    rebuild(settings, validate=False)
    return settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Settings:
    return demo_mirror(tmp_path_factory.mktemp("ui-browser"))


@pytest.fixture(scope="module")
def served(demo: Settings) -> Iterator[str]:
    """`contact-events serve` of this checkout over the demo mirror; its base URL."""
    settings = demo
    root = settings.mirror_path.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACT_EVENTS_")}
    env.update(
        CONTACT_EVENTS_MIRROR_PATH=str(settings.mirror_path),
        CONTACT_EVENTS_DUCKDB_PATH=str(settings.duckdb_path),
        CONTACT_EVENTS_PRACTICE_EMAILS=",".join(PRACTICE_EMAILS),
        CONTACT_EVENTS_API_TOKENS=READ,
        CONTACT_EVENTS_ADMIN_TOKEN=ADMIN,
        CONTACT_EVENTS_DISPLAY_TZ=ZONE,
        CONTACT_EVENTS_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "contact_events.builder.cli", "serve", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(f"{base}/health", timeout=1).json()["mirror_available"]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Visit:
    """One browser context (its own cookies) and page, recording what the page must never
    do: run script (dialogs), break the CSP, log a console error."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = WIDE) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", lambda d: self.problems.append(f"dialog: {d.message}"))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A 4xx page is logged as a failed load; that is what some tests ask for.
        if message.text.startswith("Failed to load resource"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, token: str = READ) -> None:
        self.goto("/ui/login")
        self.page.fill("#token", token)
        self.follow("button:has-text('Sign in')")
        assert "/ui/login" not in self.page.url

    def follow(self, selector: str) -> None:
        """Click something that loads a page; return once the new page has loaded."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def path(self) -> str:
        return self.page.url.removeprefix(self.base)

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


@pytest.fixture
def visit(browser, served) -> Iterator[Visit]:
    signed_in = Visit(browser, served)
    signed_in.login()
    yield signed_in
    signed_in.close()


def check_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """axe-core on the page as it is: no serious or critical violation. Returns all (and
    records them in tests/artifacts/axe.json)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    AXE_FOUND[name] = [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(AXE_FOUND, indent=1))
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in SERIOUS
    ]
    assert serious == [], f"{name}: {serious}"
    return violations


def shoot(page: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def events_on(page: Any) -> int:
    return page.locator("ol.timeline > li.event").count()


# -- the tests -----------------------------------------------------------------------------


def test_a_timeline_found_by_name_filtered_and_paged(visit):
    page = visit.page
    visit.goto("/ui/")
    page.fill("#q", "manyevents")
    visit.follow("button:has-text('Find')")
    assert visit.path() == "/ui/"  # a posted search: the name is in no URL
    check_axe(page, "home with results")
    visit.follow("a:has-text('Mary Manyevents')")
    assert visit.path() == f"/ui/contacts/{MANY}"
    assert page.locator("h1").inner_text() == "Mary Manyevents"
    assert events_on(page) == 100
    assert page.locator(".count.type--message dd").inner_text() == str(MANY_EVENTS)
    first = page.locator("ol.timeline time").first
    assert first.get_attribute("datetime").endswith("Z")
    assert first.get_attribute("title").endswith(" UTC")
    assert first.locator(".tz").inner_text() in ("GMT", "BST")  # the display zone
    assert page.locator("figure.strip svg rect.bar").count() == 53
    shoot(page, "timeline", full_page=False)
    check_axe(page, "timeline")
    visit.follow("a:has-text('Older events')")
    assert events_on(page) == 100 and "cursor=" in visit.path()
    visit.follow("a:has-text('Older events')")
    assert events_on(page) == MANY_EVENTS - 200
    assert page.locator("a:has-text('Older events')").count() == 0
    visit.follow("a:has-text('Newest events')")
    assert events_on(page) == 100
    # filter: one type, then a day range
    page.select_option("#f-type", "system")
    visit.follow("button:has-text('Apply')")
    assert "event_type=system" in visit.path()
    assert events_on(page) == 0 and "No events match these filters." in page.content()
    check_axe(page, "timeline with no events")
    page.select_option("#f-type", "message")
    visit.follow("button:has-text('Apply')")
    assert events_on(page) == 100
    shown = page.locator("ol.timeline time").first.inner_text()  # "Wed 2 Dec 2026, 05:02 GMT"
    day = datetime.strptime(shown.rsplit(" ", 1)[0], "%a %d %b %Y, %H:%M").date().isoformat()
    page.fill("#f-from", day)
    page.fill("#f-to", day)
    visit.follow("button:has-text('Apply')")
    assert f"from={day}" in visit.path() and f"to={day}" in visit.path()
    assert events_on(page) == 1  # the client has one message a day (local days)
    visit.follow("a:has-text('Clear')")
    assert visit.path() == f"/ui/contacts/{MANY}" and events_on(page) == 100


def test_a_demo_clients_timeline(visit, demo):
    """The busiest client of the demo practice, a payload open: the README's picture."""
    con = sqlite3.connect(f"file:{demo.mirror_path}?mode=ro", uri=True)
    try:
        (busiest,) = con.execute(
            "SELECT contact_id FROM contact_events WHERE contact_id NOT LIKE 'c-%' "
            "GROUP BY contact_id ORDER BY COUNT(DISTINCT event_type) DESC, COUNT(*) DESC "
            "LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    page = visit.page
    page.set_viewport_size({"width": 1200, "height": 1000})
    visit.goto(f"/ui/contacts/{busiest}")
    types = {
        t.split("--")[-1]
        for t in page.locator("ol.timeline li.event").evaluate_all(
            "items => items.map(i => i.className)"
        )
    }
    assert len(types) >= 3, types  # colours and icons of several event types
    page.locator("details summary").nth(1).click()
    assert page.locator("pre.payload").nth(1).is_visible()
    shoot(page, "timeline-demo", full_page=False)
    check_axe(page, "demo timeline, a payload open")


def test_a_hostile_payload_is_text_and_runs_nothing(visit):
    page = visit.page
    visit.goto(f"/ui/contacts/{HOSTILE}")
    assert page.locator(".event-name").first.inner_text() == HOSTILE_NAME
    page.locator("details summary").first.click()
    assert "<img src=x onerror=" in page.locator("pre.payload").first.inner_text()
    assert page.title() != "pwned" and "pwned" not in page.title()
    assert page.locator("img").count() == 0 and page.locator("script").count() == 0
    assert "<b>Hostile</b>" in page.locator("h1").inner_text()
    shoot(page, "hostile")
    check_axe(page, "hostile payload, open")


def test_a_missing_or_forged_cookie_goes_to_the_login_page(browser, served):
    stranger = Visit(browser, served)
    try:
        stranger.goto(f"/ui/contacts/{MANY}")
        assert stranger.path() == f"/ui/login?next=%2Fui%2Fcontacts%2F{MANY}"
        shoot(stranger.page, "login")
        check_axe(stranger.page, "login")
        stranger.context.add_cookies(
            [{"name": "ce_session", "value": "forged.value", "domain": "127.0.0.1", "path": "/ui"}]
        )
        stranger.goto("/ui/status")
        assert stranger.path() == "/ui/login?next=%2Fui%2Fstatus"
        cookies = {c["name"]: c for c in stranger.context.cookies()}
        assert "ce_session" not in cookies  # the forged one was cleared
        stranger.page.fill("#token", "wrong-" + "w" * 40)
        stranger.follow("button:has-text('Sign in')")
        assert "That token is not valid." in stranger.page.inner_text("main")
        check_axe(stranger.page, "login with an error")
        stranger.page.fill("#token", READ)
        stranger.follow("button:has-text('Sign in')")
        assert stranger.path() == "/ui/status"  # back where it was going
        session = {c["name"]: c for c in stranger.context.cookies()}["ce_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert session["path"] == "/ui" and not session["secure"]  # plain http here
        assert READ not in session["value"]
        stranger.follow("button:has-text('Sign out')")
        assert stranger.path() == "/ui/login"
        stranger.goto("/ui/")
        assert stranger.path().startswith("/ui/login")
    finally:
        stranger.close()


def test_every_page_sends_the_security_headers(visit):
    for path in ("/ui/", f"/ui/contacts/{MANY}", "/ui/needs-form", "/ui/status", "/ui/nope"):
        headers = visit.goto(path).headers
        assert headers["cache-control"] == "no-store", path
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "style-src 'self'" in csp and "script" not in csp
    # the CSP holds in the browser: a page cannot run a script someone slips in
    visit.goto("/ui/")
    visit.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'document.title = \"ran\"'; document.body.append(s); }"
    )
    assert visit.page.title() != "ran"
    visit.problems = [p for p in visit.problems if "Content Security Policy" not in p]


def test_the_lists_and_the_status_page(visit):
    page = visit.page
    visit.goto("/ui/")
    page.fill("#nf-days", "7")
    visit.follow("form[action='/ui/needs-form'] button")
    assert visit.path().startswith("/ui/needs-form?days=7")
    rows = page.locator("table tbody tr")
    assert rows.count() > 0
    check_axe(page, "needs-form")
    shoot(page, "needs-form")
    name = rows.first.locator("a").inner_text()
    visit.follow("table tbody tr a")
    assert visit.path().startswith("/ui/contacts/") and page.locator("h1").inner_text() == name
    visit.goto("/ui/")
    page.select_option("#gq-type", "session")
    visit.follow("form[action='/ui/gone-quiet'] button")
    assert "event_type=session" in visit.path()
    check_axe(page, "gone-quiet")
    shoot(page, "gone-quiet")
    visit.goto("/ui/status")
    assert page.locator("figure.bars svg rect.bar").count() == 6  # one per reason
    check_axe(page, "status")
    shoot(page, "status")
    page.select_option("#r-reason", "orphan")
    visit.follow("button:has-text('Show')")
    reasons = page.locator("table.rejects tbody tr td:nth-child(4)").all_inner_texts()
    assert reasons and set(reasons) == {"orphan"}
    # Rebuild now: the admin token, the same job as POST /rebuild
    page.fill("#admin-token", ADMIN)
    visit.follow("button:has-text('Rebuild now')")
    assert "job=" in visit.path()
    assert "started" in page.locator("p[role=status]").inner_text()
    deadline = time.monotonic() + 120
    while "succeeded" not in page.locator("#rebuilds ~ div table tbody tr").first.inner_text():
        assert "failed" not in page.locator("#rebuilds ~ div table tbody tr").first.inner_text()
        assert time.monotonic() < deadline, "the rebuild did not finish"
        time.sleep(0.5)
        page.reload()
    check_axe(page, "status after a rebuild")


def test_every_page_passes_axe_and_fits_a_phone(browser, served):
    phone = Visit(browser, served, viewport=PHONE)
    try:
        phone.login()
        for name, path in (
            ("home", "/ui/"),
            ("timeline", f"/ui/contacts/{MANY}"),
            ("needs-form", "/ui/needs-form"),
            ("gone-quiet", "/ui/gone-quiet"),
            ("status", "/ui/status"),
            ("not-found", "/ui/contacts/nobody-has-this-id"),
        ):
            phone.goto(path)
            if name == "timeline":
                phone.page.locator("details summary").first.click()  # a payload open too
            width, inner = phone.page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert width <= inner, f"{name} scrolls sideways at phone width ({width} > {inner})"
            check_axe(phone.page, f"{name} (phone)")
            shoot(phone.page, f"phone-{name}", full_page=name != "timeline")
        # the search results too
        phone.goto("/ui/")
        phone.page.fill("#q", "søren")
        phone.follow("button:has-text('Find')")
        assert phone.page.locator("table a").count() >= 1
        check_axe(phone.page, "find (phone)")
        shoot(phone.page, "phone-find")
    finally:
        phone.close()


def test_the_pages_work_from_the_keyboard(browser, served):
    keys = Visit(browser, served)
    page = keys.page
    try:
        keys.goto("/ui/login")
        page.keyboard.press("Tab")
        skip = page.evaluate("document.activeElement.textContent")
        assert skip == "Skip to content"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none")  # a visible focus ring
        box = page.locator("a.skip").bounding_box()
        assert box is not None and box["y"] >= 0  # shown when focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.focus("#token")
        page.keyboard.type(READ)
        page.keyboard.press("Enter")
        page.wait_for_url("**/ui/")
        keys.goto(f"/ui/contacts/{HOSTILE}")
        summary = page.locator("details summary").first
        summary.focus()
        page.keyboard.press("Enter")
        assert page.locator("details").first.get_attribute("open") is not None
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    finally:
        keys.close()


def test_the_search_results_and_error_pages_pass_axe(visit):
    visit.goto("/ui/")
    visit.page.fill("#q", "a")  # too short: the message
    visit.page.evaluate("document.querySelector('#q').removeAttribute('minlength')")
    visit.follow("button:has-text('Find')")
    assert "at least 2 characters" in visit.page.inner_text("main")
    check_axe(visit.page, "find with a message")
    visit.page.fill("#q", "Mary")
    visit.follow("button:has-text('Find')")
    check_axe(visit.page, "find with results")
    shoot(visit.page, "find")
    visit.goto("/ui/needs-form?days=-1")  # the API's 400, shown on the page
    assert "greater than or equal to 0" in visit.page.inner_text("main")
    check_axe(visit.page, "list with an error")
