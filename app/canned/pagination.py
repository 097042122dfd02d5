"""Keyset pagination: `limit` + an opaque `cursor` on every list route.

A cursor is base64url (no padding) of compact JSON:

    {"v": 1, "k": "<route kind>", "f": "<filters fingerprint>", "a": "<as_of>", "s": [...]}

- `s` is the last row's sort key; the next page starts strictly after it (no duplicate
  or missing row, also across ties).
- `a` pins `as_of`: when the first page used the default (now), later pages use the same
  instant, so the pages are one consistent view. Passing a different `as_of` with the
  cursor is an error.
- `f` fingerprints the other filters; a cursor replayed with different filters, on
  another route, or edited by hand is rejected with 400 `invalid_cursor`.

Cursors are not secret (they hold a timestamp and ids the client has already seen) and
not signed; every field is type-checked before it is bound as a parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..core.errors import ApiError
from ..core.timestamps import is_mirror_timestamp, now_utc, to_mirror

VERSION = 1
MAX_KEY_CHARS = 2000
# Every cursor this API issues starts with these 16 characters: base64url of the 12 bytes
# `{"v":1,"k":"` (whole base64 groups, so what follows cannot change them). The OpenAPI
# schema declares the `cursor` parameter with this pattern, so a value that does not
# match (`cursor=0`) is a schema mismatch as well as a 400 `invalid_cursor`.
CURSOR_PREFIX = base64.urlsafe_b64encode(b'{"v":%d,"k":"' % VERSION).decode("ascii")
assert len(CURSOR_PREFIX) == 16 and not CURSOR_PREFIX.endswith("=")
CURSOR_PATTERN = f"^{CURSOR_PREFIX}[A-Za-z0-9_-]*$"


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_cursor", f"cursor: {message}", field="cursor")


def fingerprint(kind: str, filters: Mapping[str, Any]) -> str:
    text = orjson.dumps({"kind": kind, **filters}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()[:16]


def encode_cursor(kind: str, fp: str, as_of: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps({"v": VERSION, "k": kind, "f": fp, "a": as_of, "s": list(key)})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _check_key(shape: Sequence[str], key: object) -> tuple[str, ...]:
    if not isinstance(key, list) or len(key) != len(shape):
        raise _invalid("malformed sort key")
    for value, kind_of in zip(key, shape, strict=True):
        if not isinstance(value, str) or len(value) > MAX_KEY_CHARS:
            raise _invalid("malformed sort key")
        if kind_of == "ts" and not is_mirror_timestamp(value):
            raise _invalid("malformed timestamp in sort key")
        if kind_of == "ts?" and value != "" and not is_mirror_timestamp(value):
            raise _invalid("malformed timestamp in sort key")
    return tuple(key)


def decode_cursor(
    cursor: str, kind: str, fp: str, shape: Sequence[str]
) -> tuple[str, tuple[str, ...]]:
    """(as_of, sort key) of a cursor issued for this route and these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid("not a cursor this API issued (use next_cursor as given)") from None
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise _invalid("not a cursor this API issued (use next_cursor as given)")
    if payload.get("k") != kind:
        raise _invalid("issued by another route")
    if payload.get("f") != fp:
        raise _invalid("issued for different filters; start again without a cursor")
    as_of = payload.get("a")
    if not is_mirror_timestamp(as_of):
        raise _invalid("malformed as_of")
    return str(as_of), _check_key(shape, payload.get("s"))


@dataclass(frozen=True)
class Page:
    """One list request's paging state: the as_of to use, where to start, how many rows."""

    kind: str
    fp: str
    as_of: str
    after: tuple[str, ...] | None
    page_size: int

    @property
    def fetch_limit(self) -> int:
        """Rows to ask SQL for: one more than a page tells whether a next page exists."""
        return self.page_size + 1

    def next_cursor(self, key: Sequence[Any]) -> str:
        return encode_cursor(self.kind, self.fp, self.as_of, key)


def start_page(
    kind: str,
    filters: Mapping[str, Any],
    shape: Sequence[str],
    *,
    as_of: str | None,
    cursor: str | None,
    limit: int,
    max_rows: int,
) -> Page:
    """Resolve as_of (parameter, else the cursor's, else now), the cursor and the page size.

    `as_of` is already in the mirror's text form (app.canned.params.Timestamp)."""
    fp = fingerprint(kind, filters)
    given = as_of
    after = None
    if cursor is not None:
        pinned, after = decode_cursor(cursor, kind, fp, shape)
        if given is not None and given != pinned:
            raise _invalid("issued for a different as_of; pass the same as_of or none")
        given = pinned
    resolved = given if given is not None else to_mirror(now_utc())
    return Page(kind, fp, resolved, after, max(1, min(limit, max_rows)))
