"""`contact-events serve`: uvicorn with the API's log configuration."""

from __future__ import annotations

from typing import Any

import uvicorn

from contact_events.builder.core.config import Settings

from ..core.auth import require_tokens
from .limits import H11_MAX_INCOMPLETE_EVENT_SIZE
from .logging import log_config, server_log_level
from .main import create_app


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str | None = None,
) -> None:
    """Serve the API over `settings.mirror_path` until interrupted.

    Raises ConfigError (one line) without read tokens, before anything starts. One worker
    serves an app built from `settings`; `workers` > 1 starts that many processes through
    uvicorn's factory mode (`app.http.main:create_app`), each reading the same environment and
    `contact-events.toml` that `settings` came from; they share the mirror and the rebuild
    jobs (`app.jobs.manager`). Logs at `log_level` (the command line's), else
    CONTACT_EVENTS_LOG_LEVEL, else INFO (app/http/logging.py).
    """
    require_tokens(settings)
    options = {
        "host": host,
        "port": port,
        "log_config": log_config(server_log_level(settings, log_level)),
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        # Request size limits while uvicorn parses (app/http/limits.py), before the app runs.
        **uvicorn_options(),
    }
    if workers > 1:
        uvicorn.run(
            "contact_events.app.http.main:create_app", factory=True, workers=workers, **options
        )
    else:
        uvicorn.run(create_app(settings), **options)


def uvicorn_options() -> dict[str, Any]:
    """What `uvicorn.run` needs to enforce the limits while it parses: the counting
    httptools protocol where httptools is installed (uvicorn[standard]), and h11's own
    limit either way (app/http/limits.py says what they are)."""
    options: dict[str, Any] = {"h11_max_incomplete_event_size": H11_MAX_INCOMPLETE_EVENT_SIZE}
    try:
        from .protocol import LimitedHttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn without httptools: h11 parses
        options["http"] = "h11"
    else:
        options["http"] = LimitedHttpToolsProtocol
    return options
