"""The documented error responses (OpenAPI), shared by the routers."""

from __future__ import annotations

from typing import Any

from ..canned.models import ErrorResponse


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_doc(
        "Bad input: `invalid_parameter` (wrong type, out of range, an event_type that is not "
        "one of the mirror's, malformed RFC 3339 timestamp), `unknown_parameter` (a query "
        "parameter the route does not take), `duplicate_parameter` (one given twice) or "
        "`invalid_cursor`."
    ),
    401: error_doc("Missing or wrong bearer token (`WWW-Authenticate: Bearer`)."),
    429: error_doc(
        "`too_many_requests`: this client address presented too many wrong tokens "
        "(`CONTACT_EVENTS_AUTH_FAILURES_PER_MINUTE` within a minute); every request of it "
        "that needs a token is refused for a minute. `Retry-After` says how many seconds."
    ),
}
DATA_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    503: error_doc("No mirror yet, or it cannot be read (`mirror_unavailable`)."),
    504: error_doc("The query ran past the configured time limit (`query_timeout`)."),
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: `If-None-Match` named this answer's `ETag`."}
}
UNKNOWN_CONTACT: dict[int | str, dict[str, Any]] = {404: error_doc("Unknown contact.")}
