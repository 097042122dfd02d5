"""`contact-events serve`: uvicorn with the API's log configuration."""

from __future__ import annotations

import sys

import uvicorn

from app.logging import log_config
from app.main import create_app
from builder.config import Settings
from builder.errors import ConfigError


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    token_hint: str | None = None,
) -> None:
    """Serve the API over `settings.mirror_path` until interrupted.

    `token_hint` is printed once to stderr (not to the log) so whoever started the server
    can copy it; pass a masked token if the console is shared. Refuses to start (ConfigError)
    without read tokens.
    """
    if not settings.api_tokens:
        raise ConfigError(
            "no API tokens: set CONTACT_EVENTS_API_TOKENS (comma-separated); "
            "the server refuses to start without them"
        )
    app = create_app(settings)
    if token_hint:
        print(f"Authorization: Bearer {token_hint}", file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=log_config(),
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
