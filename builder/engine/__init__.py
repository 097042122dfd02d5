"""Warehouse engines: the interface (base.py), SQL rendered for an engine (sql.py), and one
adapter module per engine (adapters/).

`CONTACT_EVENTS_WAREHOUSE` names a module of `adapters/`; its `ADAPTER` class carries the
engine's settings model, its capabilities, the extra its libraries come in and how
`doctor` names it (builder/engine/base.py).
Nothing else in the product names an engine: adding one is adding its module there and
its own statements under `queries/engine/<name>/`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from pydantic import ValidationError

from ..core.config import Settings, bad_configuration, check_names, variable_name
from ..core.errors import ConfigError
from . import adapters
from .base import Capabilities, Warehouse


def adapter_names() -> tuple[str, ...]:
    """The engines there are: the modules of `adapters/`, by name."""
    found = pkgutil.iter_modules(adapters.__path__)
    return tuple(sorted(m.name for m in found if not m.name.startswith("_")))


@cache
def adapter(kind: str) -> type[Warehouse]:
    """The adapter class of engine `kind` (ConfigError naming the engines there are)."""
    names = adapter_names()
    if kind not in names:
        raise ConfigError(
            f"bad configuration: {variable_name('warehouse')}: {kind!r} is not an engine; "
            f"one of {', '.join(names)}"
        )
    found: type[Warehouse] = importlib.import_module(f"{adapters.__name__}.{kind}").ADAPTER
    return found


def engine_settings(settings: Settings) -> Any:
    """The engine's settings, validated by its adapter's model from the values
    `settings` holds for it (environment, toml or code); one ConfigError line naming each
    rejected variable."""
    model = adapter(settings.warehouse).settings_model
    given = {k: v for k, v in (settings.model_extra or {}).items() if k in model.model_fields}
    try:
        return model.model_validate(given)
    except ValidationError as e:
        raise bad_configuration(e) from None


def setting_names() -> frozenset[str]:
    """Every engine's setting names (each adapter module is imported: they are cheap)."""
    return frozenset(
        n for kind in adapter_names() for n in adapter(kind).settings_model.model_fields
    )


def check_settings(settings: Settings) -> None:
    """Everything `load_settings` cannot check alone: the engine is one, its settings are
    valid, and no setting is one that nothing reads."""
    engine_settings(settings)
    try:
        check_names(settings, adapter(settings.warehouse).settings_model.model_fields)
    except ConfigError:  # another engine's setting, or a typo: every engine's names tell
        check_names(settings, setting_names())


def open_warehouse(settings: Settings, read_only: bool = False) -> Warehouse:
    """A connection to the engine the settings name (ConfigError when its libraries, an
    extra, are not installed)."""
    kind = adapter(settings.warehouse)
    install = kind.missing()
    if install is not None:
        raise ConfigError(
            f"{variable_name('warehouse')}={kind.kind} needs libraries that are an extra: {install}"
        )
    return kind.open(engine_settings(settings), read_only=read_only)


__all__ = [
    "Capabilities",
    "Warehouse",
    "adapter",
    "adapter_names",
    "check_settings",
    "engine_settings",
    "open_warehouse",
    "setting_names",
]
