"""FastAPI dependencies: authentication, strict query parameters, the mirror."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import Authenticator, Role
from app.db import BuildInfo, Mirror, MirrorConnection
from app.errors import ApiError
from app.jobs import JobManager
from app.timestamps import to_rfc3339

bearer = HTTPBearer(
    auto_error=False,
    description=(
        "`Authorization: Bearer <token>`. Read tokens come from CONTACT_EVENTS_API_TOKENS; "
        "POST /rebuild needs CONTACT_EVENTS_ADMIN_TOKEN (which also grants read)."
    ),
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}
T = TypeVar("T")


def _role(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Role:
    auth: Authenticator = request.app.state.auth
    token = credentials.credentials if credentials is not None else None
    role = auth.role(token)
    if role is None:
        message = "missing bearer token" if token is None else "invalid bearer token"
        raise ApiError(
            401,
            "unauthorized",
            f"{message}: send `Authorization: Bearer <token>`",
            headers=UNAUTHORIZED_HEADERS,
        )
    return role


async def require_read(request: Request, credentials: Credentials) -> Role:
    return _role(request, credentials)


async def require_admin(request: Request, credentials: Credentials) -> Role:
    role = _role(request, credentials)
    auth: Authenticator = request.app.state.auth
    if not auth.admin_configured:
        raise ApiError(
            403,
            "forbidden",
            "rebuild is disabled: no admin token is configured (CONTACT_EVENTS_ADMIN_TOKEN)",
        )
    if role is not Role.admin:
        raise ApiError(403, "forbidden", "this route needs the admin token")
    return role


def _declared_query_params(route: Any) -> frozenset[str]:
    """Names (aliases) of every query parameter a route and its dependencies declare."""
    cached = getattr(route, "_contact_events_query_names", None)
    if cached is not None:
        return cached
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names.update(field.alias for field in dependant.query_params)
        stack.extend(dependant.dependencies)
    frozen = frozenset(names)
    route._contact_events_query_names = frozen
    return frozen


async def strict_query(request: Request) -> None:
    """400 for a query parameter the route does not take (`?day=14`) or one given twice.

    Strict on purpose: a typo'd filter would otherwise silently fall back to its default
    and answer a different question than the one asked.
    """
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    allowed = _declared_query_params(route)
    counts = Counter(key for key, _ in request.query_params.multi_items())
    for name, count in counts.items():
        if name not in allowed:
            expected = ", ".join(sorted(allowed)) or "none"
            raise ApiError(
                400,
                "unknown_parameter",
                f"unknown query parameter {name!r}; this route takes: {expected}",
                field=name,
            )
        if count > 1:
            raise ApiError(
                400, "duplicate_parameter", f"query parameter {name!r} given more than once", name
            )


# `async def` on purpose: FastAPI runs plain `def` dependencies in the thread pool, and a
# thread hop per request is what the async routes are meant to avoid.
async def get_mirror(request: Request) -> Mirror:
    return request.app.state.mirror


async def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs


def set_build_headers(response: Response, build: BuildInfo) -> None:
    response.headers["X-Ledger-Built-At"] = to_rfc3339(build.built_at) or build.built_at
    response.headers["X-Ledger-Build-Id"] = build.build_id


def read(mirror: Mirror, response: Response, work: Callable[[MirrorConnection], T]) -> T:
    """Run `work` in one read snapshot of the mirror; stamp that build's X-Ledger-* headers.

    Called inside the endpoint (not as a dependency) so parameter validation (400) comes
    before mirror availability (503). Short routes call it on the event loop thread; long
    ones through `run_in_threadpool`, where it uses that worker thread's connection.
    """
    result, build = mirror.read(work)
    set_build_headers(response, build)
    return result


ReadAuth = Depends(require_read)
AdminAuth = Depends(require_admin)
StrictQuery = Depends(strict_query)
MirrorDep = Annotated[Mirror, Depends(get_mirror)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
