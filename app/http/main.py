"""The FastAPI application: `create_app(settings)`, also uvicorn's factory
(`uvicorn --factory app.http.main:create_app`, settings from the environment).

Nothing is built at import time, so a bad setting is one ConfigError line when the app is
made, never an import-time traceback. Building the app never fails for want of tokens;
starting it does (the lifespan runs `auth.require_tokens`), so the server refuses to run
without read tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from contact_events.builder.core.config import Settings, load_settings

from ..canned.handler import Api
from ..canned.kept import AnswerCache
from ..core import errors
from ..core.auth import Authenticator, require_tokens
from ..core.version import VERSION
from ..jobs.manager import JobManager, Runner
from ..pool.mirror import Mirror
from . import routes
from .fastpath import CannedRoutes
from .limits import RequestLimits
from .middleware import AccessLogMiddleware, ConditionalMiddleware
from .routers import health, rebuild, status
from .ui.pages import create_pages

DESCRIPTION = """\
Read API over the contact-events SQLite mirror (CONTRACT §5).

* **Auth**: `Authorization: Bearer <token>` on every route but `/health`; `POST /rebuild`
  needs the admin token (any token may follow a job with `GET /rebuild/{job_id}`).
* **Time**: timestamps are RFC 3339 UTC with `Z`. `as_of` (default now) fixes the instant
  a question is asked at: events after it do not count; the cut-off is `as_of - days`
  and "before the cut-off" means strictly earlier. `since` is inclusive, `until`
  exclusive.
* **Order**: events newest first, ties by `source_system` then `source_record_id`.
* **Lists**: `{"items": [...], "next_cursor": ...}`; `limit` 1..1000 (default 100); pass
  `next_cursor` back as `cursor` with the same filters for the next page.
* **Errors**: `{"error": {"code", "message", "field"}}`. Every bad input is a 400
  (`invalid_parameter`, `unknown_parameter`, `duplicate_parameter`, `invalid_cursor`):
  unknown query parameters are rejected, so a typo never silently falls back to a
  default. Too many wrong tokens from one address: 429 `too_many_requests` (with
  `Retry-After`); an oversized URL or header fields: 414 `uri_too_long`, 431
  `header_fields_too_large`. The `ErrorResponse` schema lists every code.
* **Pages** end early when their JSON would pass 1 MiB: follow `next_cursor` (not the
  item count) to the end.
* **Headers**: data answers carry `X-Ledger-Built-At` and `X-Ledger-Build-Id` of the
  mirror build they were read from.
* **Conditional requests**: every GET answer but `/health` carries an `ETag`; send it
  back as `If-None-Match` and an unchanged answer is a `304` with no body. A data answer's
  tag changes with the mirror's build and with anything that decides the answer (for
  needs-form and gone-quiet, `as_of`, which defaults to now).
* **Event types** are the mirror's (its build's profile's): `GET /status` lists them.
"""

TAGS = [
    {"name": "contacts", "description": "Questions about contacts, as of an instant."},
    {"name": "events", "description": "The ledger itself."},
    {"name": "status", "description": "What the mirror holds and how old it is."},
    {"name": "rebuild", "description": "Build + sync in the background (admin token starts one)."},
    {"name": "health", "description": "Liveness, no token."},
]


# How often the app looks for a replaced mirror file when no request comes (app/pool/mirror.py).
MIRROR_CHECK_SECONDS = 2.0


def _no_telemetry() -> dict[str, Any]:
    """FastAPI's native OpenTelemetry off (where FastAPI has it): its spans would carry
    URLs with their query strings (contact ids, emails) to whatever exporter the
    environment configures -- what the access log leaves out on purpose -- and checking
    whether it is configured cost ~10% of a timeline request."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # pragma: no cover - FastAPI before native telemetry
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema without its 422 responses: this API answers 400 for bad input."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    app.openapi_schema = schema
    return schema


def settings_from_environment() -> Settings:
    """Settings from the environment and `contact-events.toml`; ConfigError, one line, if bad."""
    return load_settings()


def create_app(
    settings: Settings | None = None, *, rebuild_runner: Runner | None = None
) -> FastAPI:
    """The API over `settings.mirror_path` (settings from the environment when None).

    `rebuild_runner` replaces `builder.pipeline.rebuild` for POST /rebuild (e.g. to wrap it).
    """
    conf = settings if settings is not None else settings_from_environment()
    mirror = Mirror(
        conf.mirror_path, time_limit_ms=conf.query_time_limit_ms, max_rows=conf.max_rows
    )

    api = Api(Authenticator.from_settings(conf), mirror, AnswerCache())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        require_tokens(conf)
        watcher = asyncio.create_task(_watch(mirror))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            mirror.close_all()

    # /docs and /redoc with their assets (Swagger UI, ReDoc) served by the app itself, not
    # a CDN: they work offline and on a network that blocks CDNs.
    app = FastAPIOffline(
        title="contact-events",
        version=VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # No badge from Swagger's online validator: the page asks nothing of the network.
        swagger_ui_parameters={"validatorUrl": None},
        lifespan=lifespan,
        **_no_telemetry(),
    )
    app.state.settings = conf
    app.state.mirror = mirror
    app.state.auth = api.auth
    app.state.api = api
    app.state.jobs = JobManager(conf, runner=rebuild_runner)
    errors.install(app)
    # Outermost last: access log -> size limits (app/http/limits.py) -> canned GETs
    # (app/http/fastpath.py) -> ETags for the rest.
    app.add_middleware(ConditionalMiddleware)
    app.add_middleware(CannedRoutes, api=api)
    app.add_middleware(RequestLimits)
    app.add_middleware(AccessLogMiddleware)
    for module in (routes, status, rebuild, health):
        app.include_router(module.router)
    # The pages for people: their own small app, so the JSON routes never pass through it.
    app.mount("/ui", create_pages(api, app.state.jobs, conf))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def _watch(mirror: Mirror) -> None:
    """Close idle connections to a replaced mirror file even when no request comes, and
    verify a new file before requests need it (in a thread: it reads the whole file)."""
    while True:
        await asyncio.sleep(MIRROR_CHECK_SECONDS)
        await run_in_threadpool(mirror.check)
