"""Settings: environment variables `CONTACT_EVENTS_*`, else `contact-events.toml` in the
working directory (keys are the lower-case names without the prefix), else defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from builder.contract import ASCII_LOWER, TRIM_CHARS

CommaList = Annotated[list[str], NoDecode]
MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.ASCII)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONTACT_EVENTS_",
        toml_file="contact-events.toml",
        extra="ignore",
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
    mirror_path: Path = Path("./data/contact_events.db")
    practice_emails: CommaList = []
    api_tokens: CommaList = []
    admin_token: str | None = None
    # API guard rails (Datasette-style): per-query time limit and row cap.
    query_time_limit_ms: int = 5000
    max_rows: int = 50000

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

    @field_validator("admin_token", "duckdb_memory_limit", "sources_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _a_size(cls, value: str | None) -> str | None:
        if value is not None and not MEMORY_SIZE.fullmatch(value):
            raise ValueError("expected a size such as 512MB or 2GB")
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
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)
