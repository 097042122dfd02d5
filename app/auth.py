"""Bearer tokens: read tokens from `settings.api_tokens`, one admin token.

Every configured token is compared with `hmac.compare_digest`, always all of them (no
early exit), so the time taken does not tell which token, or how much of one, matched.
The admin token also grants read access. Tokens are never logged.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from app.errors import ApiError
from builder.config import Settings
from builder.errors import ConfigError

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


class Authenticator:
    def __init__(self, read_tokens: list[str], admin_token: str | None) -> None:
        self._read = [_encode(t) for t in read_tokens if t]
        self._admin = _encode(admin_token) if admin_token else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(list(settings.api_tokens), settings.admin_token)

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


def authorize(auth: Authenticator, authorization: str | None) -> Role:
    """The one request check: the role of the presented bearer token, else 401."""
    token = bearer_token(authorization)
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
