"""Bearer tokens: read tokens from `settings.api_tokens`, one admin token.

Every configured token is compared with `hmac.compare_digest`, always all of them (no
early exit), so the time taken does not tell which token, or how much of one, matched.
The admin token also grants read access. Tokens are never logged.

Failed authentication is rate-limited per client address (`FailureLimiter`): a wrong
token counts (a missing one does not: nothing was guessed; a success never counts), and
after `CONTACT_EVENTS_AUTH_FAILURES_PER_MINUTE` (10) failures within a minute the address
is blocked for a minute: every request from it that needs a token answers 429
`too_many_requests` with `Retry-After`, its token not even compared, so guessing cannot
go on. Memory is bounded (at most `MAX_CLIENTS` addresses, the oldest forgotten first).
The address is the connection's peer (the server does not trust proxy headers), so behind
a reverse proxy every client shares the proxy's.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum

from contact_events.builder.core.config import Settings
from contact_events.builder.core.errors import ConfigError

from .errors import ApiError

NO_TOKENS = (
    "no API tokens: set CONTACT_EVENTS_API_TOKENS (comma-separated read tokens); "
    "the server refuses to start without them"
)


def require_tokens(settings: Settings) -> None:
    """The one start-up check: the API never serves without read tokens (ConfigError)."""
    if not settings.api_tokens:
        raise ConfigError(NO_TOKENS)


class Role(StrEnum):
    read = "read"
    admin = "admin"


def _encode(token: str) -> bytes:
    return token.encode("utf-8", "surrogateescape")


WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class FailureLimiter:
    """Failed authentications per client address: `limit` within `window` seconds block
    the address for `window` seconds. `blocked()` is one dict lookup (every request pays
    it); only failures take the lock and write."""

    def __init__(
        self,
        limit: int = 10,
        window: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = max(1, int(limit))
        self.window = float(window)
        self.max_clients = max(1, int(max_clients))
        self.clock = clock
        self._lock = threading.Lock()
        # address -> [first failure of the window, failures, blocked until (0: not)]
        self._clients: OrderedDict[str, list[float]] = OrderedDict()

    def blocked(self, client: str) -> int:
        """Whole seconds until `client` may try again (0: not blocked)."""
        entry = self._clients.get(client)
        if entry is None or not entry[2]:
            return 0
        left = entry[2] - self.clock()
        return math.ceil(left) if left > 0 else 0

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            entry = self._clients.get(client)
            if entry is None or now - entry[0] >= self.window:
                entry = [now, 0.0, 0.0]
                self._clients[client] = entry
            self._clients.move_to_end(client)
            entry[1] += 1
            if entry[1] >= self.limit:
                entry[2] = now + self.window
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)

    def __len__(self) -> int:
        return len(self._clients)


class Authenticator:
    def __init__(
        self,
        read_tokens: list[str],
        admin_token: str | None,
        failures: FailureLimiter | None = None,
    ) -> None:
        self._read = [_encode(t) for t in read_tokens if t]
        self._admin = _encode(admin_token) if admin_token else None
        self.failures = failures if failures is not None else FailureLimiter()

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(
            list(settings.api_tokens),
            settings.admin_token,
            FailureLimiter(settings.auth_failures_per_minute),
        )

    @property
    def admin_configured(self) -> bool:
        return self._admin is not None

    def role(self, token: str | None) -> Role | None:
        """The role a presented token grants, or None."""
        if not token:
            return None
        presented = _encode(token)
        is_read = False
        for candidate in self._read:
            is_read |= hmac.compare_digest(presented, candidate)
        is_admin = False
        if self._admin is not None:
            is_admin = hmac.compare_digest(presented, self._admin)
        if is_admin:
            return Role.admin
        if is_read:
            return Role.read
        return None

    def role_of_fingerprint(self, fingerprint: str, key: bytes) -> Role | None:
        """The role of the configured token whose fingerprint under `key` is `fingerprint`
        (HMAC-SHA256 hex of the token's UTF-8): how a page's session cookie, which keeps
        the fingerprint and never the token, is checked against the tokens configured
        now, so a revoked token's sessions end with it. Compared as `role` compares."""
        if not fingerprint:
            return None
        presented = fingerprint.encode("ascii", "replace")

        def matches(token: bytes) -> bool:
            mine = hmac.new(key, token, hashlib.sha256).hexdigest().encode("ascii")
            return hmac.compare_digest(presented, mine)

        is_read = False
        for candidate in self._read:
            is_read |= matches(candidate)
        is_admin = self._admin is not None and matches(self._admin)
        if is_admin:
            return Role.admin
        if is_read:
            return Role.read
        return None


UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None (parsed as
    FastAPI's HTTPBearer does: scheme case-insensitive, the rest as given)."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if not scheme or not credentials or scheme.lower() != "bearer":
        return None
    return credentials


def client_address(client: object) -> str:
    """The ASGI `client` (host, port) as the rate limit's key."""
    if isinstance(client, tuple | list) and client:
        return str(client[0])
    return "unknown"


def authorize(auth: Authenticator, authorization: str | None, client: str = "unknown") -> Role:
    """The one request check: 429 while `client` is blocked for failed authentications,
    else the role of the presented bearer token, else 401 (a wrong token counts)."""
    wait = auth.failures.blocked(client)
    if wait:
        raise ApiError(
            429,
            "too_many_requests",
            f"too many failed authentications from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    token = bearer_token(authorization)
    role = auth.role(token)
    if role is None:
        if token is not None:
            auth.failures.failed(client)
        message = "missing bearer token" if token is None else "invalid bearer token"
        raise ApiError(
            401,
            "unauthorized",
            f"{message}: send `Authorization: Bearer <token>`",
            headers=UNAUTHORIZED_HEADERS,
        )
    return role
