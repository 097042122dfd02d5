"""The canned queries (app/canned/table.py `ROUTES`) as documented FastAPI routes: one router
registers every declaration, tagged by its path's first segment (contacts, events).

A route's OpenAPI entry comes from the declaration: its parameters from the same specs
that check requests, its 200 body from the response model, its errors and its bearer
scheme. Its endpoint is the generic handler (app/canned/handler.py). GET requests normally reach
that handler straight from the lean ASGI path (app/http/fastpath.py), which skips FastAPI's
routing and dependency machinery; these endpoints answer identically.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from ..canned.handler import Api, Reply, answer
from ..canned.table import ROUTES, Canned
from ..core.auth import client_address
from .deps import bearer
from .responses import DATA_ERRORS, NOT_MODIFIED, UNKNOWN_CONTACT


def to_response(reply: Reply) -> Response:
    response = Response(reply.body or None, status_code=reply.status)
    response.raw_headers.extend(reply.headers)
    return response


def add_canned_route(router: APIRouter, canned: Canned) -> None:
    """Register `canned` on `router` at its path."""

    async def endpoint(request: Request) -> Response:
        api: Api = request.app.state.api
        reply = await answer(
            api,
            canned,
            request.path_params,
            request.query_params.multi_items(),
            request.headers.get("authorization"),
            request.headers.get("if-none-match"),
            client_address(request.scope.get("client")),
        )
        return to_response(reply)

    responses: dict[int | str, dict[str, Any]] = {**NOT_MODIFIED, **DATA_ERRORS}
    if canned.must_exist or not canned.is_list:
        responses.update(UNKNOWN_CONTACT)
    router.add_api_route(
        canned.path,
        endpoint,
        methods=["GET"],
        name=canned.name,
        response_model=canned.model,
        summary=canned.summary,
        description=canned.description,
        responses=responses,
        dependencies=[Depends(bearer)],  # documents the scheme; answer() checks the token
        openapi_extra={"parameters": canned.params.openapi()},
        tags=[canned.path.split("/")[1]],
    )


router = APIRouter()
for _canned in ROUTES.entries:
    add_canned_route(router, _canned)
