"""Conditional requests: an `ETag` on every GET answer but /health; `If-None-Match` -> 304.

A canned route's tag is derived before any query runs, from everything that decides the
answer: the app's version, the route, its parameters (path, filters, page size and the
cursor's position), the effective as_of and the mirror build the request's snapshot holds
(build id and sync time: any sync, full or in place, changes it). A 304 then costs one
snapshot and a hash.

as_of: a route with a `days` look-back moves with as_of (the cut-off is as_of - days), so
the effective as_of is part of the tag, and with the default (now) the tag changes with
every request unless a cursor pins it. A route without one answers the same for every
as_of at or after the mirror's newest event, so such an as_of (the default, now, in
particular) counts as "latest" and the tag stays put until the next sync. Such answers
differ only in the instant their next_cursor pins (each continues identically), so the
tags are weak (`W/`), which is what `If-None-Match` compares anyway.

Other GET answers (/status, /rebuild/{job_id}, the docs) are tagged by a hash of their
body (app/http/middleware.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ..core.version import VERSION

LATEST = "latest"


def tag_of(parts: Mapping[str, Any]) -> str:
    digest = hashlib.blake2b(
        orjson.dumps([VERSION, parts], option=orjson.OPT_SORT_KEYS), digest_size=12
    )
    return f'W/"{digest.hexdigest()}"'


def tag_of_body(body: bytes) -> str:
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def is_any(if_none_match: str | None) -> bool:
    """`If-None-Match: *`: any current answer matches (so only a 200 becomes a 304)."""
    return if_none_match is not None and if_none_match.strip() == "*"


def matches(if_none_match: str | None, tag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): does the header name this tag?"""
    if not if_none_match:
        return False
    opaque = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        if candidate.strip().removeprefix("W/") == opaque:
            return True
    return False
