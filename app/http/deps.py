"""FastAPI dependencies of the routes that are not canned queries (/status, /rebuild,
/health): authentication, strict query parameters, the mirror, the rebuild jobs.

The canned data routes check the same things in app/canned/handler.py (one `authorize`, and the
routes' own parameter sets); `bearer` documents the scheme on every route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..canned.params import strict_query_values
from ..core.auth import Authenticator, Role, authorize, client_address
from ..core.errors import ApiError
from ..jobs.manager import JobManager
from ..pool.mirror import Mirror

bearer = HTTPBearer(
    auto_error=False,
    description=(
        "`Authorization: Bearer <token>`. Read tokens come from CONTACT_EVENTS_API_TOKENS; "
        "POST /rebuild needs CONTACT_EVENTS_ADMIN_TOKEN (which also grants read)."
    ),
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _role(request: Request) -> Role:
    auth: Authenticator = request.app.state.auth
    return authorize(
        auth, request.headers.get("authorization"), client_address(request.scope.get("client"))
    )


async def require_read(request: Request, _credentials: Credentials) -> Role:
    return _role(request)


async def require_admin(request: Request, _credentials: Credentials) -> Role:
    role = _role(request)
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
    strict_query_values(request.query_params.multi_items(), _declared_query_params(route))


# `async def` on purpose: FastAPI runs plain `def` dependencies in the thread pool, and a
# thread hop per request is what the async routes are meant to avoid.
async def get_mirror(request: Request) -> Mirror:
    return request.app.state.mirror


async def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs


ReadAuth = Depends(require_read)
AdminAuth = Depends(require_admin)
StrictQuery = Depends(strict_query)
MirrorDep = Annotated[Mirror, Depends(get_mirror)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
