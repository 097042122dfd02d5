"""Settings: environment variables `CONTACT_EVENTS_*`, else a toml file, else defaults.

The toml file is `$CONTACT_EVENTS_CONFIG` (what `contact-events --config PATH` sets) or
`contact-events.toml` in the working directory; its keys are the settings' names in lower
case without the prefix (`warehouse = "bigquery"`). The environment wins over the file.

The warehouse engine's own settings (`CONTACT_EVENTS_DUCKDB_PATH`, `_BQ_PROJECT`, ...)
belong to its adapter, which carries their model (builder/engine/): here they are kept
as given, in `model_extra`, and `builder.engine.check_settings` validates them.

Nothing is silently ignored: an unknown key in the file or an unknown `CONTACT_EVENTS_*`
variable is a `ConfigError` naming it and the closest valid name (a typo such as
`practise_emails` would otherwise just turn every practice email into an inbound one;
`check_names`, given the engines' names too), and a file that is not valid TOML is one
error naming the file and line.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .contract import EMAIL_FOLD, TRIM_CHARS
from .errors import ConfigError

CommaList = Annotated[list[str], NoDecode]

ENV_PREFIX = "CONTACT_EVENTS_"
CONFIG_VARIABLE = "CONTACT_EVENTS_CONFIG"  # the toml file (`contact-events --config PATH`)
DEFAULT_CONFIG_FILE = Path("contact-events.toml")
# Variables read by command-line options rather than by Settings (each option's help
# names its variable). They count as known names.
OPTION_VARIABLES = {
    CONFIG_VARIABLE: "contact-events --config",
    "CONTACT_EVENTS_MAX_ERRORS": "contact-events run --max-errors",
}
# Variables read by the Python client (client/, ContactEventsClient.from_env), not
# by the service; known names too, so a shell set up for automation can run the CLI.
CLIENT_VARIABLES = {
    "CONTACT_EVENTS_API_URL": "ContactEventsClient.from_env (the API's base URL)",
    "CONTACT_EVENTS_API_TOKEN": "ContactEventsClient.from_env (the client's token)",
}
MIN_TOKEN_CHARS = 32
MAKE_A_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - a command, not a token
MAX_SESSION_HOURS = 24 * 7
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SECRET_SETTINGS = frozenset({"api_tokens", "admin_token"})


class Settings(BaseSettings):
    # hide_input_in_errors: a rejected token never reaches a traceback or a log; extra:
    # the engine's settings, validated by its adapter (see the module docstring)
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="allow", hide_input_in_errors=True
    )

    # The engine: an adapter's name (builder/engine/adapters/), checked there.
    warehouse: str = "duckdb"
    # What the canonical tables look like (CONTRACT §7); SOURCES_DIR: the practice's own
    # folder of source files instead of a built-in profile's.
    profile: Literal["flat", "lorchestra"] = "flat"
    sources_dir: Path | None = None
    mirror_path: Path = Path("./data/contact_events.db")
    practice_emails: CommaList = []
    api_tokens: CommaList = []
    admin_token: str | None = None
    # API guard rails (Datasette-style): per-query time limit and row cap.
    query_time_limit_ms: int = 5000
    max_rows: int = 50000
    # Wrong bearer tokens one client address may present per minute before it is blocked
    # for a minute (429); app/core/auth.py.
    auth_failures_per_minute: int = Field(default=10, ge=1)
    # The pages (/ui): the time zone their times are shown in (an IANA name; UTC on
    # hover), and how long a login lasts.
    display_tz: str = "UTC"
    session_hours: float = Field(default=8.0, gt=0, le=MAX_SESSION_HOURS)
    # The command line's log level (`-v` is INFO, `-vv` DEBUG).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"

    @field_validator("practice_emails", "api_tokens", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("practice_emails")
    @classmethod
    def _normalise_emails(cls, value: list[str]) -> list[str]:
        # README "Emails": trimmed and case-folded, as every email is compared
        normalised = (v.strip(TRIM_CHARS).translate(EMAIL_FOLD) for v in value)
        return sorted({v for v in normalised if v})

    @field_validator("api_tokens")
    @classmethod
    def _long_tokens(cls, value: list[str]) -> list[str]:
        for i, token in enumerate(value, start=1):
            if len(token) < MIN_TOKEN_CHARS:
                raise ValueError(
                    f"token {i} of {len(value)} has {len(token)} characters; a token needs "
                    f"at least {MIN_TOKEN_CHARS} (make one with: {MAKE_A_TOKEN})"
                )
        return value

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"the token has {len(value)} characters; it needs at least {MIN_TOKEN_CHARS} "
                f"(make one with: {MAKE_A_TOKEN})"
            )
        return value

    @field_validator("admin_token", "sources_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("display_tz")
    @classmethod
    def _a_time_zone(cls, value: str) -> str:
        from .timezones import zone_or_error

        zone_or_error(value)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        check_environment(os.environ)
        return (
            init_settings,
            env_settings,
            EngineVariables(settings_cls),
            TomlSource(settings_cls),
        )

    def origins(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Where each setting's value came from: the variable, the toml file or default
        (values given in code, as `demo` does, read as defaults here). `names`: these
        (an engine's too); default: the product's own."""
        env = {k.upper(): k for k in os.environ}
        path, _ = config_file()
        data = read_config_file(path) if path is not None else {}
        found: dict[str, str] = {}
        for name in type(self).model_fields if names is None else names:
            variable = variable_name(name)
            if variable in env:
                found[name] = f"environment ({variable})"
            elif name in data:
                found[name] = f"{path}"
            else:
                found[name] = "default"
        return found

    def redacted(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The settings (or `values`, e.g. an engine's) as JSON-ready values, tokens
        replaced by how many there are."""
        given = (
            values if values is not None else {n: getattr(self, n) for n in type(self).model_fields}
        )
        values = {}
        for name, value in given.items():
            if name in SECRET_SETTINGS:  # a token list: how many; a token: whether set
                if not value:
                    value = "none"
                else:
                    value = "set" if isinstance(value, str) else f"{len(value)} set"
            elif isinstance(value, Path):
                value = str(value)
            values[name] = value
        return values


def variable_name(setting: str) -> str:
    return f"{ENV_PREFIX}{setting.upper()}"


def known_variables(engine_names: Iterable[str] = ()) -> dict[str, str]:
    """Every CONTACT_EVENTS_* name the product reads -> what reads it (`engine_names`:
    the engines' settings, which only builder.engine knows)."""
    names = {variable_name(n): f"setting {n}" for n in (*Settings.model_fields, *engine_names)}
    return {**names, **OPTION_VARIABLES, **CLIENT_VARIABLES}


def product_variable(name: str) -> bool:
    """Whether `name` (upper case) is one of the product's own variables, not an engine's."""
    return (
        name in OPTION_VARIABLES
        or name in CLIENT_VARIABLES
        or (
            name.startswith(ENV_PREFIX)
            and name.removeprefix(ENV_PREFIX).lower() in Settings.model_fields
        )
    )


# Settings an earlier release read, and what to do now (a "did you mean" guess would
# point at an unrelated name).
REMOVED_SETTINGS = {
    "incremental_lookback_hours": "incremental builds now compare the staged rows of the "
    'last build (README, "Upgrading from the previous release"); remove it',
}


def removed(setting: str) -> str | None:
    """Why a setting of an earlier release is gone, if it is one."""
    return REMOVED_SETTINGS.get(setting.lower())


def closest(name: str, candidates: list[str]) -> str | None:
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def check_environment(environ: Mapping[str, str]) -> None:
    """ConfigError for a CONTACT_EVENTS_* variable of an earlier release that is gone."""
    for key in sorted(environ):
        upper = key.upper()
        if upper.startswith(ENV_PREFIX):
            gone = removed(upper.removeprefix(ENV_PREFIX))
            if gone:
                raise ConfigError(f"environment variable {key} was removed: {gone}")


def check_names(settings: Settings, engine_names: Collection[str]) -> None:
    """ConfigError for a setting that nothing reads (a typo), in the environment or the
    toml file: the product's own names and `engine_names` (every engine's) are known."""
    known = known_variables(engine_names)
    for key in sorted(os.environ):
        upper = key.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known:
            guess = closest(upper, list(known))
            hint = f"; did you mean {guess}?" if guess else ""
            raise ConfigError(
                f"unknown environment variable {key}{hint} (known: see `contact-events doctor`)"
            )
    path, _ = config_file()
    names = [*Settings.model_fields, *engine_names]
    for key in read_config_file(path) if path is not None else {}:
        if key not in names:
            plain = key.lower().removeprefix(ENV_PREFIX.lower())
            guess = plain if plain in names else closest(plain, names)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
    for name in settings.model_extra or {}:
        if name not in engine_names:  # given in code, e.g. Settings(duckdb_pth=...)
            raise ConfigError(f"unknown setting {name!r}")


def config_file() -> tuple[Path | None, bool]:
    """(the toml file to read, whether it was asked for explicitly); None: no file."""
    explicit = os.environ.get(CONFIG_VARIABLE)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist ({CONFIG_VARIABLE} / --config)")
        return path, True
    return (DEFAULT_CONFIG_FILE, False) if DEFAULT_CONFIG_FILE.is_file() else (None, False)


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's settings; ConfigError naming the file (and line) when it cannot be used.
    Keys that are not the product's own are kept for the engine (see `check_names`)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror or e}") from None
    for key, value in data.items():
        gone = removed(key.lower().removeprefix(ENV_PREFIX.lower()))
        if gone and key not in Settings.model_fields:
            raise ConfigError(f"{path}: setting {key!r} was removed: {gone}")
        if isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a value, not a table")
    return data


class EngineVariables(PydanticBaseSettingsSource):
    """The CONTACT_EVENTS_* variables that are not the product's own: the engine's
    settings (see the module docstring), by their names in lower case."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return {
            key.upper().removeprefix(ENV_PREFIX).lower(): value
            for key, value in os.environ.items()
            if key.upper().startswith(ENV_PREFIX) and not product_variable(key.upper())
        }


class TomlSource(PydanticBaseSettingsSource):
    """The toml file's settings (see the module docstring)."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        path, _ = config_file()
        self.path = path
        self.data = read_config_file(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and the toml file (`overrides` win); a bad value is
    one ConfigError line naming each rejected setting by its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise bad_configuration(e) from None


def bad_configuration(error: ValidationError) -> ConfigError:
    """One ConfigError line naming each rejected setting by its variable."""
    problems = "; ".join(
        f"{variable_name('_'.join(map(str, err['loc'])))}: "
        f"{err['msg'].removeprefix('Value error, ')}"
        for err in error.errors()
    )
    return ConfigError(f"bad configuration: {problems}")
