"""A canned query (app/canned.py) as a documented FastAPI route.

The route's OpenAPI entry comes from the declaration: its parameters from the same specs
that check requests, its 200 body from the response model, its errors and its bearer
scheme. Its endpoint is the generic handler (app/answer.py). GET requests normally reach
that handler straight from the lean ASGI path (app/fastpath.py), which skips FastAPI's
routing and dependency machinery; this endpoint answers the rest (HEAD), identically.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from app.answer import Api, Reply, answer
from app.auth import client_address
from app.canned import Canned
from app.deps import bearer
from app.responses import DATA_ERRORS, NOT_MODIFIED, UNKNOWN_CONTACT


def to_response(reply: Reply) -> Response:
    response = Response(reply.body or None, status_code=reply.status)
    response.raw_headers.extend(reply.headers)
    return response


def add_canned_route(router: APIRouter, canned: Canned, path: str) -> None:
    """Register `canned` on `router` at `path` (relative to the router's prefix)."""

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
        path,
        endpoint,
        methods=["GET"],
        name=canned.name,
        response_model=canned.model,
        summary=canned.summary,
        description=canned.description,
        responses=responses,
        dependencies=[Depends(bearer)],  # documents the scheme; answer() checks the token
        openapi_extra={"parameters": canned.params.openapi()},
    )
