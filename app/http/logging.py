"""Uvicorn log configuration for `serve`: no query strings, no tokens, no emails.

Uvicorn's access log prints the request line with its query string, so it is switched
off; app/http/middleware.py logs `METHOD /path STATUS 12.3ms` to `contact_events.access`
instead. Nothing logs headers (tokens) or response bodies (emails, names).

The level is `CONTACT_EVENTS_LOG_LEVEL` (or `log_level` in the toml, or the command
line's `--log-level`/`-v`) when one is given; otherwise `INFO`, the server's default (its
start-up lines and the access log), not the command line's `WARNING`.
"""

from __future__ import annotations

from typing import Any

from contact_events.builder.core.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SERVER_DEFAULT_LEVEL = "INFO"


def server_log_level(settings: Settings, given: str | None = None) -> str:
    """The server's log level: `given` (the command line's), else the setting when it was
    set (environment or toml), else INFO."""
    if given:
        return given.upper()
    if "log_level" in settings.model_fields_set:
        return settings.log_level
    return SERVER_DEFAULT_LEVEL


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict for `uvicorn.run(log_config=...)`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": LOG_FORMAT},
            "access": {"format": "%(asctime)s %(message)s"},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": level, "propagate": False},
            # Off: its line carries the query string. Our middleware logs requests instead.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "contact_events": {"handlers": ["default"], "level": level, "propagate": False},
            "contact_events.access": {
                "handlers": ["access"],
                "level": level,
                "propagate": False,
            },
        },
    }


LOG_CONFIG = log_config()
