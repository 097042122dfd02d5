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
    workers: int = 1,
) -> None:
    """Serve the API over `settings.mirror_path` until interrupted.

    `token_hint` is printed once to stderr (not to the log) so whoever started the server
    can copy it; pass a masked token if the console is shared. Refuses to start (ConfigError)
    without read tokens. `workers` > 1 starts that many processes, each building the app
    from the environment (`app.main:create_app`), as `settings` was; they share the
    mirror and the rebuild jobs (`app.jobs`).
    """
    if not settings.api_tokens:
        raise ConfigError(
            "no API tokens: set CONTACT_EVENTS_API_TOKENS (comma-separated); "
            "the server refuses to start without them"
        )
    if token_hint:
        print(f"Authorization: Bearer {token_hint}", file=sys.stderr)
    options = {
        "host": host,
        "port": port,
        "log_config": log_config(),
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers > 1:
        uvicorn.run("app.main:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
