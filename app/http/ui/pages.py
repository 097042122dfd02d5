"""The pages: a small FastAPI application mounted at /ui by `app.http.main.create_app`.

    /ui/login, /ui/logout      a read token for a session cookie (app/http/ui/session.py)
    /ui/                       find a client; the lists
    /ui/needs-form, /ui/gone-quiet   the API's lists, with its parameters
    /ui/contacts/{contact_id}  one client's timeline
    /ui/status                 the ledger's health; "Rebuild now" (admin token)
    /ui/static/...             the stylesheet and icon (no script anywhere)

What may appear in a URL: the contact id, event types, dates, list parameters, cursors and
job ids; never a name, an email or searched text. Finding a client and searching a
timeline (`q`) are posted forms whose answers are rendered directly (a timeline search's
"older" is a posted button too); the rest are links that can be bookmarked.

Every page checks the session first; a missing, forged, expired or revoked one is sent to
the login page (303), and posts carry a CSRF nonce. Data comes through app/http/ui/data.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from contact_events.builder.core.config import Settings
from contact_events.builder.core.contract import REASONS, WARNING_REASONS
from contact_events.builder.core.timezones import zone_or_error
from contact_events.builder.mirror.store import MirrorFiles

from ...canned.handler import Api
from ...canned.table import CONTACT_SUMMARY, GONE_QUIET, NEEDS_FORM, TIMELINE
from ...core.auth import Role, authorize, client_address
from ...core.errors import ApiError
from ...core.timestamps import now_utc, to_mirror
from ...jobs.manager import JobManager
from . import charts
from .data import Page, PageData
from .headers import PageHeaders
from .render import STATIC, Clock, make_environment
from .session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    SessionKeyError,
    Sessions,
    cookie_options,
    same,
    same_site_post,
)

log = logging.getLogger("contact_events.api")

PAGE_SIZE = 100
MAX_FORM_BYTES = 64 * 1024
MAX_SEARCH_CHARS = 200
# What each list page takes from its URL and passes to its canned route as it is.
LIST_FIELDS = {"needs-form": ("days", "measure", "lifecycle_stage", "scope"),
               "gone-quiet": ("days", "event_type", "lifecycle_stage", "scope")}  # fmt: skip


class LoginRequired(Exception):  # noqa: N818 - a redirect, not an error
    def __init__(self, next_path: str | None, had_cookie: bool) -> None:
        self.next_path = next_path
        self.had_cookie = had_cookie


class FormError(Exception):
    """A posted form that is too big or not from our own page."""


@dataclass
class Pages:
    """What the pages need of the app."""

    api: Api
    jobs: JobManager
    settings: Settings
    sessions: Sessions = field(init=False)
    data: PageData = field(init=False)
    clock: Clock = field(init=False)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        key = MirrorFiles.at(self.settings.mirror_path).session_key
        self.sessions = Sessions(key, self.api.auth, self.settings.session_hours)
        self.data = PageData(self.api, self.jobs)
        tz = self.settings.display_tz
        self.clock = Clock(zone_or_error(tz), tz)
        self.env = make_environment(self.clock)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


def pages_of(request: Request) -> Pages:
    return request.app.state.pages


def create_pages(api: Api, jobs: JobManager, settings: Settings) -> FastAPI:
    """The pages' application, to be mounted at /ui."""
    pages = Pages(api, jobs, settings)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.pages = pages
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)

    def error_page() -> bytes:
        return pages.render(
            "error.html",
            session=None,
            title="Something went wrong",
            heading="Something went wrong",
            message="The page could not be shown; the server log has the details.",
        ).encode()

    app.add_middleware(PageHeaders, error_page=error_page)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = "/ui/login"
        if exc.next_path:
            target += "?" + urlencode({"next": exc.next_path})
        response = RedirectResponse(target, status_code=303)
        if exc.had_cookie:
            response.delete_cookie(SESSION_COOKIE, **cookie_options(_secure(request)))
        return response

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(request, exc.status, _api_heading(exc), exc.message, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return _error(request, 404, "Not found", "There is no such page.")
        if exc.status_code == 405:
            return _error(request, 405, "Not allowed", "This page does not take that method.")
        return _error(request, exc.status_code, "Request failed", str(exc.detail))

    async def form_error(request: Request, exc: Exception) -> Response:
        return _error(request, 400, "The form could not be used", str(exc))

    async def key_error(request: Request, exc: Exception) -> Response:
        log.error("%s", exc)
        return _error(
            request, 503, "Sign-in unavailable", f"{exc}; check the folder's owner and rights."
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(FormError, form_error)
    app.add_exception_handler(SessionKeyError, key_error)
    return app


def _api_heading(exc: ApiError) -> str:
    if exc.status == 503:
        return "The ledger is not available"
    if exc.status == 504:
        return "That took too long"
    if exc.status == 429:
        return "Too many failed sign-ins"
    return "That could not be shown"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _error(
    request: Request,
    status: int,
    heading: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    pages = pages_of(request)
    try:
        session = pages.sessions.read(request.cookies)
    except SessionKeyError:
        session = None
    html = pages.render(
        "error.html", session=session, title=heading, heading=heading, message=message
    )
    return HTMLResponse(html, status_code=status, headers=headers)


# -- the session ---------------------------------------------------------------------------


def _here(request: Request) -> str:
    """This request's path and query, as `next` after logging in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def session_of(request: Request) -> Session:
    session = pages_of(request).sessions.read(request.cookies)
    if session is None:
        next_path = _here(request) if request.method == "GET" else None
        raise LoginRequired(next_path, SESSION_COOKIE in request.cookies)
    return session


SessionDep = Depends(session_of)


async def form_of(request: Request) -> dict[str, str]:
    """A posted urlencoded form (first value of each name), at most MAX_FORM_BYTES, sent
    from our own pages."""
    if not same_site_post(request.headers, request.headers.get("host")):
        raise FormError("it was sent from another site")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("it is too large")
    values: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        values.setdefault(name, value)
    return values


def check_csrf(form: dict[str, str], session: Session) -> None:
    if not same(form.get("csrf", ""), session.csrf):
        raise FormError("it has expired; reload the page and try again")


def _page(
    request: Request, template: str, session: Session | None, code: int = 200, **context: Any
) -> HTMLResponse:
    html = pages_of(request).render(template, session=session, **context)
    return HTMLResponse(html, status_code=code)


router = APIRouter()


# -- login ---------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    """An API message as a sentence on a page."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a page of ours, else the start page."""
    if not value:
        return "/ui/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or value.startswith("//"):
        return "/ui/"
    if not (parts.path == "/ui" or parts.path.startswith("/ui/")):
        return "/ui/"
    return value


def _login_page(
    request: Request,
    status: int,
    next_path: str,
    message: str | None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    pages = pages_of(request)
    nonce, cookie = pages.sessions.login_nonce()
    response = _page(
        request,
        "login.html",
        None,
        status,
        title="Sign in",
        nonce=nonce,
        next_path=next_path,
        message=message,
    )
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, **cookie_options(_secure(request)))
    if headers:
        response.headers.update(headers)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    if pages_of(request).sessions.read(request.cookies) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, 200, _safe_next(next), None)


@router.post("/login")
async def login(request: Request) -> Response:
    pages = pages_of(request)
    form = await form_of(request)
    next_path = _safe_next(form.get("next"))
    if not pages.sessions.login_nonce_ok(request.cookies, form.get("csrf", "")):
        return _login_page(
            request, 400, next_path, "The sign-in form had expired; please try again."
        )
    token = form.get("token", "").strip()
    try:
        authorize(pages.api.auth, f"Bearer {token}", client_address(request.scope.get("client")))
    except ApiError as e:
        if e.status == 429:
            return _login_page(request, 429, next_path, _sentence(e.message), e.headers)
        message = "Enter your access token." if not token else "That token is not valid."
        return _login_page(request, 401, next_path, message)
    response = RedirectResponse(next_path, status_code=303)
    options = cookie_options(_secure(request))
    response.set_cookie(
        SESSION_COOKIE, pages.sessions.issue(token), max_age=pages.sessions.seconds, **options
    )
    response.delete_cookie(LOGIN_COOKIE, **options)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    pages = pages_of(request)
    form = await form_of(request)
    session = pages.sessions.read(request.cookies)
    if session is not None:
        check_csrf(form, session)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, **cookie_options(_secure(request)))
    return response


# -- the start page: find a client, the lists ----------------------------------------------


@router.get("/")
async def home(request: Request, session: Session = SessionDep) -> Response:
    return await _home(request, session, None)


@router.post("/")
async def find(request: Request, session: Session = SessionDep) -> Response:
    form = await form_of(request)
    check_csrf(form, session)
    return await _home(request, session, form.get("q", ""))


async def _home(request: Request, session: Session, text: str | None) -> Response:
    pages = pages_of(request)
    found: list[dict[str, Any]] | None = None
    more = False
    message = None
    if text is not None:
        text = text.strip()
        if len(text) < 2:
            message = "Type at least 2 characters of a name, an email or an id."
        elif len(text) > MAX_SEARCH_CHARS:
            message = f"Type at most {MAX_SEARCH_CHARS} characters."
        else:
            found, more = await pages.data.find(text)
    choices = await _list_choices(pages)
    return _page(
        request,
        "home.html",
        session,
        title="Clients",
        nav="clients",
        text=text or "",
        found=found,
        more=more,
        message=message,
        choices=choices,
        defaults={"needs-form": _defaults(NEEDS_FORM), "gone-quiet": _defaults(GONE_QUIET)},
    )


def _defaults(canned: Any) -> dict[str, Any]:
    return {p.name: p.default for p in canned.params.params}


async def _list_choices(pages: Pages) -> dict[str, Any]:
    """The choices the lists' forms offer (app/http/ui/data.py), and whether the API takes
    `scope` (current clients or everyone)."""
    found = await pages.data.choices()
    return {
        "measures": found.measures,
        "stages": found.stages,
        "event_types": found.event_types,
        "scope": "scope" in NEEDS_FORM.params.by_name,
    }


@router.get("/needs-form")
async def needs_form(request: Request, session: Session = SessionDep) -> Response:
    return await _list(request, session, "needs-form")


@router.get("/gone-quiet")
async def gone_quiet(request: Request, session: Session = SessionDep) -> Response:
    return await _list(request, session, "gone-quiet")


async def _list(request: Request, session: Session, name: str) -> Response:
    pages = pages_of(request)
    canned = NEEDS_FORM if name == "needs-form" else GONE_QUIET
    taken = [f for f in LIST_FIELDS[name] if f in canned.params.by_name]
    given = {f: request.query_params.get(f, "") for f in taken}
    query = [(f, v) for f, v in given.items() if v]
    cursor = request.query_params.get("cursor")
    if cursor:
        query.append(("cursor", cursor))
    query.append(("limit", str(PAGE_SIZE)))
    answer: Page | None = None
    message = None
    try:
        answer = await pages.data.page(canned, {}, query)
    except ApiError as e:
        if e.status != 400:
            raise
        message = e.message
    older = None
    if answer is not None and answer.next_cursor:
        older = f"/ui/{name}?" + urlencode(
            [*((k, v) for k, v in given.items() if v), ("cursor", answer.next_cursor)]
        )
    choices = await _list_choices(pages)
    return _page(
        request,
        "list.html",
        session,
        title="Due a form" if name == "needs-form" else "Gone quiet",
        nav="clients",
        name=name,
        given=given,
        defaults=_defaults(canned),
        answer=answer,
        message=message,
        next_url=older,
        first_page=bool(cursor),
        choices=choices,
        first_url=f"/ui/{name}?" + urlencode([(k, v) for k, v in given.items() if v]),
    )


# -- a client's timeline -------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilters:
    """The timeline's form: event type, a local date range, searched text, the cursor."""

    event_type: str = ""
    start: str = ""  # YYYY-MM-DD, a local date, inclusive
    end: str = ""  # YYYY-MM-DD, a local date, inclusive
    q: str = ""
    cursor: str = ""

    @classmethod
    def of(cls, values: Any) -> TimelineFilters:
        def get(name: str) -> str:
            return (values.get(name) or "").strip()

        return cls(
            get("event_type"), get("from"), get("to"), get("q")[:MAX_SEARCH_CHARS], get("cursor")
        )

    def link_query(self, cursor: str | None = None) -> str:
        """The URL query of these filters (never `q`: searched text stays out of URLs)."""
        pairs = [("event_type", self.event_type), ("from", self.start), ("to", self.end)]
        if cursor:
            pairs.append(("cursor", cursor))
        return urlencode([(k, v) for k, v in pairs if v])

    def api_query(self, clock: Clock) -> list[tuple[str, str]]:
        """The canned timeline's parameters, or ValueError saying what is wrong with a day."""
        pairs = [("limit", str(PAGE_SIZE))]
        if self.event_type:
            pairs.append(("event_type", self.event_type))
        start, end = _day(self.start, "From"), _day(self.end, "To")
        if start and end and start > end:
            raise ValueError("“From” is after “To”.")
        try:
            if start:
                pairs.append(("since", _rfc3339(clock.local_midnight_utc(start))))
            if end:  # through the end of that local day
                until = clock.local_midnight_utc(end + timedelta(days=1))
                pairs.append(("until", _rfc3339(until)))
        except OverflowError:
            raise ValueError("A day is out of range (years 1 to 9998).") from None
        if self.q:
            pairs.append(("q", self.q))
        if self.cursor:
            pairs.append(("cursor", self.cursor))
        return pairs


def _day(text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{label}” is not a date (YYYY-MM-DD).") from None


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def search_supported() -> bool:
    """Whether the API's timeline takes `q` (full-text search)."""
    return "q" in TIMELINE.params.by_name


@router.get("/contacts/{contact_id}")
async def timeline(request: Request, contact_id: str, session: Session = SessionDep) -> Response:
    filters = TimelineFilters.of(request.query_params)
    return await _timeline(request, session, contact_id, replace(filters, q=""))


@router.post("/contacts/{contact_id}")
async def timeline_search(
    request: Request, contact_id: str, session: Session = SessionDep
) -> Response:
    form = await form_of(request)
    check_csrf(form, session)
    filters = TimelineFilters.of(form)
    if not filters.q or not search_supported():
        # Nothing secret to keep out of the URL: the bookmarkable page.
        target = f"/ui/contacts/{quote(contact_id, safe='')}"
        query = replace(filters, q="").link_query(filters.cursor or None)
        return RedirectResponse(target + (f"?{query}" if query else ""), status_code=303)
    return await _timeline(request, session, contact_id, filters)


async def _timeline(
    request: Request, session: Session, contact_id: str, filters: TimelineFilters
) -> Response:
    pages = pages_of(request)
    data = pages.data
    contact = await data.contact(contact_id)
    if contact is None:
        return _error(request, 404, "No such client", "No contact has this id.")
    summary = await data.canned(CONTACT_SUMMARY, {"contact_id": contact_id}, [])
    now = now_utc()
    today = pages.clock.local(now).date()
    first_week = charts.week_start(today) - timedelta(weeks=charts.WEEKS - 1)
    weeks = await data.weeks(
        contact_id,
        to_mirror(pages.clock.local_midnight_utc(first_week)),
        to_mirror(now),
        pages.clock.shift_modifier(now),
    )
    answer: Page | None = None
    message = None
    try:
        answer = await data.page(
            TIMELINE, {"contact_id": contact_id}, filters.api_query(pages.clock)
        )
    except ValueError as e:  # a date the form could not read
        message = str(e)
    except ApiError as e:
        if e.status != 400:
            raise
        message = e.message
    path = f"/ui/contacts/{quote(contact_id, safe='')}"
    older_url = None
    if answer is not None and answer.next_cursor and not filters.q:
        older_url = f"{path}?{filters.link_query(answer.next_cursor)}"
    filtered = bool(filters.event_type or filters.start or filters.end or filters.q)
    return _page(
        request,
        "timeline.html",
        session,
        title=f"Timeline of {contact_id}",
        nav="clients",
        contact=contact,
        summary=summary,
        strip=charts.activity_strip(weeks, today),
        answer=answer,
        message=message,
        filters=filters,
        path=path,
        older_url=older_url,
        newest_url=(f"{path}?{filters.link_query()}" if filters.link_query() else path),
        event_types=list(summary["counts"]),
        search=search_supported(),
        filtered=filtered,
    )


# -- the ledger's health -------------------------------------------------------------------


@router.get("/status")
async def status(request: Request, session: Session = SessionDep) -> Response:
    return await _status(request, session, 200, None)


async def _status(
    request: Request, session: Session, code: int, rebuild_message: str | None
) -> Response:
    pages = pages_of(request)
    data = pages.data
    found = await data.status()
    query = request.query_params
    reason = query.get("reason") or None
    source = query.get("source") or None
    try:
        after = max(0, int(query.get("after") or 0))
    except ValueError:
        after = 0
    rejects, next_after = await data.rejects(reason, source, after)
    sources = await data.reject_sources()
    jobs = await data.recent_jobs()
    by_reason = {reason_: found["rejects_by_reason"].get(reason_, 0) for reason_ in REASONS}
    for other, n in found["rejects_by_reason"].items():
        by_reason.setdefault(other, n)
    filters = [("reason", reason or ""), ("source", source or "")]
    next_url = None
    if next_after is not None:
        next_url = (
            "/ui/status?"
            + urlencode([*((k, v) for k, v in filters if v), ("after", str(next_after))])
            + "#rejects"
        )
    return _page(
        request,
        "status.html",
        session,
        code,
        title="Ledger status",
        nav="status",
        status=found,
        chart=charts.bar_chart(by_reason, WARNING_REASONS),
        by_reason=by_reason,
        rejects=rejects,
        sources=sources,
        reason=reason,
        source=source,
        next_url=next_url,
        after=after,
        jobs=jobs,
        shapes=_shape_counts(found["build"]),
        admin=pages.api.auth.admin_configured,
        rebuild_message=rebuild_message,
        started=query.get("job"),
        reasons=list(by_reason),
    )


def _shape_counts(build: dict[str, Any]) -> dict[str, Any] | None:
    """The lorchestra profile's per-kind shape counts, when the build recorded them."""
    for key, value in build.items():
        if "shape" in key and isinstance(value, dict) and value:
            return value
    return None


@router.post("/status/rebuild")
async def rebuild(request: Request, session: Session = SessionDep) -> Response:
    pages = pages_of(request)
    form = await form_of(request)
    check_csrf(form, session)
    if not pages.api.auth.admin_configured:
        return await _status(
            request, session, 403, "Rebuilding from here is off: no admin token is configured."
        )
    token = form.get("admin_token", "").strip()
    try:
        role = authorize(
            pages.api.auth, f"Bearer {token}", client_address(request.scope.get("client"))
        )
    except ApiError as e:
        if e.status == 429:
            return await _status(request, session, 429, _sentence(e.message))
        return await _status(
            request,
            session,
            401,
            "Enter the admin token." if not token else "That token is not valid.",
        )
    if role is not Role.admin:
        return await _status(
            request, session, 403, "That is a read token; starting a rebuild needs the admin token."
        )
    job = await pages.data.start_rebuild()
    return RedirectResponse(
        f"/ui/status?{urlencode({'job': job['job_id']})}#rebuilds", status_code=303
    )
