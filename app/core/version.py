"""The installed package's version (in OpenAPI, and in every ETag: new code, new tags)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    try:
        return version("contact-events")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0.0.0"


VERSION = _version()
