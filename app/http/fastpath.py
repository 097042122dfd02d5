"""The lean path: GET requests of the canned routes go straight to the generic handler.

An ASGI middleware inside the access log: the GET path of the canned routes' one table
(`app.canned.table.ROUTES`, which the FastAPI router registers too). It finds a request's route
there (a dict lookup, or a template such as `/contacts/{contact_id}/timeline`), reads the
two headers it needs and the query string
(decoded exactly as Starlette decodes it), and calls `app.canned.handler.answer` -- the same
handler, with the same checks and errors, that the documented FastAPI routes call. What it
skips is FastAPI's route matching, dependency solving, parameter validation and response
validation, about half of a short request's time (bench/README.md). Every other request,
and every non-GET one, goes on to FastAPI unchanged.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from ..canned.handler import JSON_TYPE, Api, Reply, answer
from ..canned.table import ROUTES, Canned
from ..core.auth import client_address
from ..core.errors import ApiError, error_body


def error_reply(error: ApiError) -> Reply:
    headers = [JSON_TYPE]
    headers.extend(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()
    )
    return Reply(
        error.status, headers, orjson.dumps(error_body(error.code, error.message, error.field))
    )


class CannedRoutes:
    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = ROUTES.match(scope["path"])
            if found is not None:
                await self.serve(scope, send, *found)
                return
        await self.app(scope, receive, send)

    async def serve(self, scope: Scope, send: Send, canned: Canned, path: dict[str, str]) -> None:
        authorization = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif name == b"if-none-match":
                if if_none_match is None:
                    if_none_match = value.decode("latin-1")
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        try:
            reply = await answer(
                self.api,
                canned,
                path,
                query,
                authorization,
                if_none_match,
                client_address(scope.get("client")),
            )
        except ApiError as e:
            reply = error_reply(e)
        headers = reply.headers
        if reply.status != 304:
            headers = [*headers, (b"content-length", str(len(reply.body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})
