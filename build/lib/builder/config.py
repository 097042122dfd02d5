"""Settings: environment variables `CONTACT_EVENTS_*`, else a toml file, else defaults.

The toml file is `$CONTACT_EVENTS_CONFIG` (what `contact-events --config PATH` sets) or
`contact-events.toml` in the working directory; its keys are the settings' names in lower
case without the prefix (`warehouse = "bigquery"`). The environment wins over the file.

Nothing is silently ignored: an unknown key in the file or an unknown `CONTACT_EVENTS_*`
variable is a `ConfigError` naming it and the closest valid name (a typo such as
`practise_emails` would otherwise just turn every practice email into an inbound one),
and a file that is not valid TOML is one error naming the file and line.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from builder.contract import ASCII_LOWER, TRIM_CHARS
from builder.errors import ConfigError

CommaList = Annotated[list[str], NoDecode]
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.ASCII)

ENV_PREFIX = "CONTACT_EVENTS_"
CONFIG_VARIABLE = "CONTACT_EVENTS_CONFIG"  # the toml file (`contact-events --config PATH`)
DEFAULT_CONFIG_FILE = Path("contact-events.toml")
# Variables read by command-line options rather than by Settings (each option's help
# names its variable). They count as known names.
OPTION_VARIABLES = {
    CONFIG_VARIABLE: "contact-events --config",
    "CONTACT_EVENTS_MAX_ERRORS": "contact-events run --max-errors",
}
# Variables read by the Python client (app/client.py, ContactEventsClient.from_env), not
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
    # hide_input_in_errors: a rejected token never reaches a traceback or a log
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", hide_input_in_errors=True
    )

    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    # What the canonical tables look like (CONTRACT §7); SOURCES_DIR: the practice's own
    # folder of source files instead of a built-in profile's.
    profile: Literal["flat", "lorchestra"] = "flat"
    sources_dir: Path | None = None
    duckdb_path: Path = Path("./data/warehouse.duckdb")
    # DuckDB's memory budget (e.g. "512MB"; it spills to disk beyond it). None: DuckDB's
    # own default, 80% of the machine's memory.
    duckdb_memory_limit: str | None = None
    bq_project: str | None = None
    bq_dataset: str | None = None
    bq_endpoint: str | None = None
    bq_storage_endpoint: str | None = None
    bq_location: str | None = None
    # Each BigQuery API request: how long to wait for an answer, and how many times to try
    # again when the endpoint does not answer (connection refused, timed out, 5xx).
    bq_timeout_seconds: float = 30.0
    bq_retries: int = 3
    mirror_path: Path = Path("./data/contact_events.db")
    practice_emails: CommaList = []
    api_tokens: CommaList = []
    admin_token: str | None = None
    # API guard rails (Datasette-style): per-query time limit and row cap.
    query_time_limit_ms: int = 5000
    max_rows: int = 50000
    # Wrong bearer tokens one client address may present per minute before it is blocked
    # for a minute (429); app/auth.py.
    auth_failures_per_minute: int = 10
    # The pages (/ui): the time zone their times are shown in (an IANA name; UTC on
    # hover), and how long a login lasts.
    display_tz: str = "UTC"
    session_hours: float = 8.0
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
        # README "Emails": trimmed, A-Z lower-cased, as every email is compared
        normalised = (v.strip(TRIM_CHARS).translate(ASCII_LOWER) for v in value)
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

    @field_validator("admin_token", "duckdb_memory_limit", "sources_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _a_size(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY_SIZE.fullmatch(value):
            raise ValueError("expected a size such as 512MB or 2GB")
        return value

    @field_validator("bq_timeout_seconds")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("expected a number of seconds greater than 0")
        return value

    @field_validator("auth_failures_per_minute")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("expected 1 or more")
        return value

    @field_validator("display_tz")
    @classmethod
    def _a_time_zone(cls, value: str) -> str:
        from builder.timezones import zone_or_error

        zone_or_error(value)
        return value

    @field_validator("session_hours")
    @classmethod
    def _session_length(cls, value: float) -> float:
        if not 0 < value <= MAX_SESSION_HOURS:
            raise ValueError(
                f"expected a number of hours greater than 0, at most {MAX_SESSION_HOURS}"
            )
        return value

    @field_validator("bq_retries")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("expected 0 or more")
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
        return (init_settings, env_settings, TomlSource(settings_cls))

    def origins(self) -> dict[str, str]:
        """Where each setting's value came from: the variable, the toml file or default
        (values given in code, as `demo` does, read as defaults here)."""
        env = {k.upper(): k for k in os.environ}
        path, _ = config_file()
        data = read_config_file(path) if path is not None else {}
        found: dict[str, str] = {}
        for name in type(self).model_fields:
            variable = variable_name(name)
            if variable in env:
                found[name] = f"environment ({variable})"
            elif name in data:
                found[name] = f"{path}"
            else:
                found[name] = "default"
        return found

    def redacted(self) -> dict[str, Any]:
        """The settings as JSON-ready values, tokens replaced by how many there are."""
        values: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
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


def known_variables() -> dict[str, str]:
    """Every CONTACT_EVENTS_* name the product reads -> what reads it."""
    names = {variable_name(n): f"setting {n}" for n in Settings.model_fields}
    return {**names, **OPTION_VARIABLES, **CLIENT_VARIABLES}


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
    """ConfigError for a CONTACT_EVENTS_* variable that nothing reads (a typo)."""
    known = known_variables()
    for key in sorted(environ):
        upper = key.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known:
            gone = removed(upper.removeprefix(ENV_PREFIX))
            if gone:
                raise ConfigError(f"environment variable {key} was removed: {gone}")
            guess = closest(upper, list(known))
            hint = f"; did you mean {guess}?" if guess else ""
            raise ConfigError(
                f"unknown environment variable {key}{hint} (known: see `contact-events doctor`)"
            )


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
    """The file's settings; ConfigError naming the file (and line) when it cannot be used."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read: {e.strerror or e}") from None
    names = list(Settings.model_fields)
    for key, value in data.items():
        if key not in Settings.model_fields:
            plain = key.lower().removeprefix(ENV_PREFIX.lower())
            gone = removed(plain)
            if gone:
                raise ConfigError(f"{path}: setting {key!r} was removed: {gone}")
            guess = plain if plain in Settings.model_fields else closest(plain, names)
            hint = f"; did you mean {guess!r}?" if guess else ""
            raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
        if isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a value, not a table")
    return data


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
        problems = "; ".join(
            f"{variable_name('_'.join(map(str, err['loc'])))}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in e.errors()
        )
        raise ConfigError(f"bad configuration: {problems}") from None
