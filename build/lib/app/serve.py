"""`contact-events serve`: uvicorn with the API's log configuration."""

from __future__ import annotations

import uvicorn

from app.auth import require_tokens
from app.limits import uvicorn_options
from app.logging import log_config, server_log_level
from app.main import create_app
from builder.config import Settings


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
    uvicorn's factory mode (`app.main:create_app`), each reading the same environment and
    `contact-events.toml` that `settings` came from; they share the mirror and the rebuild
    jobs (`app.jobs`). Logs at `log_level` (the command line's), else
    CONTACT_EVENTS_LOG_LEVEL, else INFO (app/logging.py).
    """
    require_tokens(settings)
    options = {
        "host": host,
        "port": port,
        "log_config": log_config(server_log_level(settings, log_level)),
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        # Request size limits while uvicorn parses (app/limits.py), before the app runs.
        **uvicorn_options(),
    }
    if workers > 1:
        uvicorn.run("app.main:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
