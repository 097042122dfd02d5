"""The pages' login: a read token exchanged for a signed, expiring session cookie.

- `POST /ui/login` checks the token with the API's one check (`app.core.auth.authorize`): the
  same tokens, and a wrong one counts towards the same failed-auth limit as a wrong
  bearer token (a blocked address gets 429 here too).
- The cookie keeps the token's *fingerprint* (HMAC-SHA256 under the session key), a
  CSRF nonce and its expiry, signed with itsdangerous; never the token. Every request
  checks the fingerprint against the tokens configured now
  (`Authenticator.role_of_fingerprint`), so the sessions of a revoked token end with it.
- The key is a random file beside the mirror (`<mirror>.session-key`, owner-only, made on
  first use), so every worker process and a restart accept the same cookies; deleting it
  ends every session.
- `HttpOnly`, `SameSite=Strict`, `Path=/ui`, `Secure` when the request came over https (as
  the server sees its scheme: TLS, or a trusted proxy's `X-Forwarded-Proto` when the
  server honours it); `Max-Age` and the signed expiry both end it after
  `CONTACT_EVENTS_SESSION_HOURS`.
- CSRF: every form that posts carries a nonce (the session's; the login form's own, from
  a short-lived cookie of its own), compared in constant time, and a post that the
  browser says came from another site (`Sec-Fetch-Site`, else `Origin`) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from contact_events.builder.core.files import create_private

from ...core.auth import Authenticator, Role

SESSION_COOKIE = "ce_session"
LOGIN_COOKIE = "ce_login"
COOKIE_PATH = "/ui"
LOGIN_FORM_SECONDS = 3600  # how long a login form may sit before it is sent
KEY_BYTES = 32


class SessionKeyError(Exception):
    """The session key beside the mirror can be neither read nor made."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`; made (random, owner-only) when missing. Made under a temporary
    name and linked into place, so two workers starting at once agree on one key."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    except OSError as e:
        raise SessionKeyError(f"cannot read the session key {path}: {e.strerror}") from None
    if len(key) >= KEY_BYTES:
        return key
    temp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        create_private(temp)
        temp.write_bytes(secrets.token_hex(KEY_BYTES).encode("ascii"))
        if key:  # present but too short (damaged): replaced
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another worker made it first: use theirs
        return path.read_bytes()
    except OSError as e:
        raise SessionKeyError(f"cannot make the session key {path}: {e.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the role of its token now, and its CSRF nonce."""

    role: Role
    csrf: str


class Sessions:
    def __init__(
        self,
        key_path: Path,
        auth: Authenticator,
        hours: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key_path = key_path
        self.auth = auth
        self.seconds = int(hours * 3600)
        self.clock = clock
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_key(self.key_path)
        return self._key

    def _serializer(self, purpose: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.key, salt=f"contact-events.ui.{purpose}")

    def fingerprint(self, token: str) -> str:
        # The token's bytes as app.core.auth compares them.
        raw = token.encode("utf-8", "surrogateescape")
        return hmac.new(self.key, raw, hashlib.sha256).hexdigest()

    # -- the session cookie ---------------------------------------------------------------

    def issue(self, token: str) -> str:
        """The cookie value for a browser that presented `token` (already checked)."""
        payload = {
            "f": self.fingerprint(token),
            "c": secrets.token_urlsafe(24),
            "e": int(self.clock()) + self.seconds,
        }
        return self._serializer("session").dumps(payload)

    def read(self, cookies: Mapping[str, str]) -> Session | None:
        """The session of a request's cookies; None when missing, forged, expired, or its
        token is no longer configured."""
        payload = self._load("session", cookies.get(SESSION_COOKIE))
        if payload is None:
            return None
        fingerprint, csrf = payload.get("f"), payload.get("c")
        if not isinstance(fingerprint, str) or not isinstance(csrf, str):
            return None
        role = self.auth.role_of_fingerprint(fingerprint, self.key)
        return Session(role, csrf) if role is not None else None

    # -- the login form's nonce -----------------------------------------------------------

    def login_nonce(self) -> tuple[str, str]:
        """(nonce for the form, value of the login cookie that vouches for it)."""
        nonce = secrets.token_urlsafe(24)
        value = self._serializer("login").dumps(
            {"c": nonce, "e": int(self.clock()) + LOGIN_FORM_SECONDS}
        )
        return nonce, value

    def login_nonce_ok(self, cookies: Mapping[str, str], nonce: str) -> bool:
        payload = self._load("login", cookies.get(LOGIN_COOKIE))
        expected = payload.get("c") if payload is not None else None
        return isinstance(expected, str) and same(nonce, expected)

    def _load(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        """A signed payload of ours that has not expired, else None."""
        if not value:
            return None
        try:
            payload = self._serializer(purpose).loads(value)
        except BadSignature:
            return None
        if not isinstance(payload, dict):
            return None
        expires = payload.get("e")
        if not isinstance(expires, int) or expires <= self.clock():
            return None
        return payload


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of two nonces."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def cookie_options(secure: bool) -> dict[str, Any]:
    """Every cookie of the pages: HttpOnly, SameSite=Strict, Path=/ui, Secure over https."""
    return {"httponly": True, "samesite": "strict", "path": COOKIE_PATH, "secure": secure}


def same_site_post(headers: Mapping[str, str], host: str | None) -> bool:
    """Whether the browser says this post came from our own pages: `Sec-Fetch-Site`
    (every current browser sends it), else `Origin` naming this host, else (a client that
    sends neither, e.g. a script) the CSRF nonce alone decides."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null" or host is None:
        return False
    return origin.split("://", 1)[-1] == host
