"""Response models: the shapes CONTRACT §5 fixes, with examples for /docs and /openapi.json.

Timestamps are RFC 3339 UTC strings with `Z` and microseconds
(`2024-05-01T09:30:00.000000Z`): fixed width, so they also sort as text.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ..core.errors import ERROR_CODES

JobState = Literal["queued", "running", "succeeded", "failed"]
Row = TypeVar("Row", bound=BaseModel)

TS = "2024-05-01T09:30:00.000000Z"
# A response timestamp: text as the API sends it (never re-parsed), declared in OpenAPI as
# `format: date-time` (RFC 3339), which it always is.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
TS_DESC = "RFC 3339 UTC timestamp with `Z`, microsecond precision."
EVENT_TYPE_DESC = (
    "One of the mirror's event types (its build's profile's; GET /status lists them). The "
    "flat profile's are form, session, email, message and system."
)
EMAIL_DESC = "The contact's email as `contact_email` is: trimmed, its ASCII letters lower-cased."
CURSOR_DESC = "Pass as `cursor` (with the same filters) for the next page; null on the last page."
CURSOR_EXAMPLE = "eyJ2IjoxLCJrIjoiZXZlbnRzIiwiZiI6IjAxMjMiLCJhIjoiLi4uIiwicyI6W119"


def _fields_example(schema: dict[str, Any], model: type[BaseModel]) -> None:
    schema["examples"] = [{n: f.examples[0] for n, f in model.model_fields.items() if f.examples}]


# A model's example in the OpenAPI docs, made of its fields' own examples.
EXAMPLE_OF_FIELDS = ConfigDict(json_schema_extra=_fields_example)


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Machine-readable, one of:\n\n"
        + "\n".join(
            f"* `{code}` ({status}): {when}" for code, (status, when) in ERROR_CODES.items()
        ),
        examples=["invalid_parameter"],
        json_schema_extra={"enum": list(ERROR_CODES)},
    )
    message: str = Field(
        description="What was wrong, for a human.",
        examples=["days: Input should be less than or equal to 36500"],
    )
    field: str | None = Field(
        default=None, description="The parameter at fault, if any.", examples=["days"]
    )


class ErrorResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "invalid_parameter",
                        "message": "days: Input should be less than or equal to 36500",
                        "field": "days",
                    }
                }
            ]
        }
    )
    error: ErrorDetail


class Page(BaseModel, Generic[Row]):
    """A page of a list route: its items and the cursor of the next page."""

    items: list[Row]
    next_cursor: str | None = Field(description=CURSOR_DESC)


# The contact columns of the examples of needs-form and gone-quiet.
ADA = {
    "contact_id": "c-000123",
    "email": "ada@example.org",
    "first_name": "Ada",
    "last_name": "Lovelace",
}


class ContactColumns(BaseModel):
    """The contact's own columns, first in every row of needs-form and gone-quiet."""

    contact_id: str = Field(examples=["c-000123"])
    email: str | None = Field(description=EMAIL_DESC, examples=["ada@example.org"])
    first_name: str | None = Field(examples=["Ada"])
    last_name: str | None = Field(examples=["Lovelace"])


class NeedsFormRow(ContactColumns):
    last_form_at: Timestamp | None = Field(
        description=TS_DESC + " Null when the contact has no (matching) form event.",
        examples=[TS],
    )


class NeedsFormPage(Page[NeedsFormRow]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {**ADA, "last_form_at": None},
                        {
                            "contact_id": "c-000042",
                            "email": "alan@example.org",
                            "first_name": "Alan",
                            "last_name": "Turing",
                            "last_form_at": TS,
                        },
                    ],
                    "next_cursor": CURSOR_EXAMPLE,
                }
            ]
        }
    )


class GoneQuietRow(ContactColumns):
    last_event_at: Timestamp = Field(description=TS_DESC, examples=[TS])
    last_event_type: str = Field(description=EVENT_TYPE_DESC, examples=["session"])
    last_event_name: str | None = Field(examples=["Session Completed"])


class GoneQuietPage(Page[GoneQuietRow]):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            **ADA,
                            "last_event_at": TS,
                            "last_event_type": "session",
                            "last_event_name": "Session Completed",
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )


class NoSessionRow(ContactColumns):
    last_session_at: Timestamp | None = Field(
        description=TS_DESC + " Null when the contact has no session event.", examples=[TS]
    )


class NoSessionPage(Page[NoSessionRow]):
    """A page of GET /contacts/no-session."""


class ChannelSummaryRow(BaseModel):
    """One contact's events per type, their total and the latest event's time."""

    model_config = EXAMPLE_OF_FIELDS
    contact_id: str = Field(examples=["c-000123"])
    counts: dict[str, int] = Field(
        description=(
            "Events per event type: an object with every event type of the mirror (GET "
            "/status lists them, in this order), 0 included."
        ),
        examples=[{"form": 4, "session": 12, "email": 7, "message": 3, "system": 0}],
    )
    total: int = Field(examples=[26])
    last_activity_at: Timestamp | None = Field(
        description=TS_DESC + " Null when the contact has no events.", examples=[TS]
    )


class ChannelSummaryPage(Page[ChannelSummaryRow]):
    """A page of GET /contacts/channel-summary."""


class LedgerEvent(BaseModel):
    model_config = EXAMPLE_OF_FIELDS
    contact_id: str | None = Field(
        description="Null for an orphan (only /events lists orphans).", examples=["c-000123"]
    )
    contact_email: str | None = Field(examples=["ada@example.org"])
    event_type: str = Field(description=EVENT_TYPE_DESC, examples=["session"])
    event_name: str | None = Field(examples=["Session Completed"])
    event_source: str | None = Field(examples=["dataverse"])
    event_timestamp: Timestamp = Field(description=TS_DESC, examples=[TS])
    source_system: str = Field(examples=["canonical.clinical_sessions"])
    source_record_id: str = Field(examples=["s-9001"])
    payload: dict[str, Any] = Field(
        description="The source's other fields (CONTRACT §2), as a JSON object.",
        examples=[{"session_num": 3, "idem_key": "k-77"}],
    )


class EventPage(Page[LedgerEvent]):
    """A page of ledger rows (GET /events, a contact's timeline)."""


BUILD_EXAMPLE: dict[str, Any] = {
    "build_id": "6e9f5b06b6e0451689090dc66fe91218",
    "built_at": TS,
    "synced_at": "2024-05-01T09:30:04.120000Z",
    "warehouse": "duckdb",
    "mode": "full",
    "ledger_rows": 928497,
    "rejects_rows": 59310,
    "contacts_rows": 50000,
    "error_rejects": 47113,
    "rejects_by_reason": {"orphan": 12197, "bad_timestamp": 9756},
    "rows_by_source": {"canonical.clinical_sessions": 349358},
    "duplicates_by_source": {"canonical.clinical_sessions": 9146},
    "build_seconds": 5.2,
    "sync_seconds": 5.8,
    "validation": None,
}


class BuildRecord(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BUILD_EXAMPLE]})
    build_id: str
    built_at: Timestamp = Field(description=TS_DESC)
    synced_at: Timestamp = Field(description=TS_DESC)
    warehouse: str
    mode: str | None = Field(
        default=None,
        description="`full` (a new mirror file) or `incremental` (patched in place).",
    )
    ledger_rows: int
    rejects_rows: int
    contacts_rows: int
    error_rejects: int
    rejects_by_reason: dict[str, int] | None
    rows_by_source: dict[str, int] | None
    duplicates_by_source: dict[str, int] | None
    build_seconds: float | None
    sync_seconds: float | None
    validation: dict[str, Any] | None = Field(
        description="The pre-swap validation report, if `contact-events run` made one."
    )


class MirrorVerification(BaseModel):
    verified: bool = Field(
        description=(
            "Whether the mirror file in service passed its check when the API first saw it: "
            "SQLite's `PRAGMA quick_check` found nothing and it has a build row."
        )
    )
    quick_check: str | None = Field(description="`ok`, or SQLite's first finding.")
    recorded_checksum: str | None = Field(
        description=(
            "The checksum its sync recorded in the build row (`sha256-pages:<hex>`; null "
            "when the build row records none). `contact-events status` recomputes it."
        ),
        examples=["sha256-pages:9f2c51e0d3a4b7c8e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"],
    )
    checked_at: Timestamp = Field(description=TS_DESC + " When the check ran.")
    seconds: float = Field(description="How long the check took.")


class StatusResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "build": BUILD_EXAMPLE,
                    "rows_by_source": {
                        "measurement_events": 122499,
                        "canonical.clinical_sessions": 349358,
                        "canonical.email_events": 227303,
                        "canonical.messages": 153304,
                        "canonical.system_events": 76033,
                    },
                    "rejects_by_reason": {
                        "missing_record_id": 9760,
                        "missing_timestamp": 9756,
                        "bad_timestamp": 9756,
                        "unknown_contact_id": 9106,
                        "ambiguous_email": 8735,
                        "orphan": 12197,
                    },
                    "mirror_age_seconds": 3600.5,
                    "profile": "flat",
                    "event_types": ["form", "session", "email", "message", "system"],
                    "mirror_verification": {
                        "verified": True,
                        "quick_check": "ok",
                        "recorded_checksum": "sha256-pages:9f2c51e0d3a4b7c8e1f2a3b4c5d6e7f8",
                        "checked_at": "2024-05-01T09:31:00.000000Z",
                        "seconds": 0.512,
                    },
                }
            ]
        }
    )
    build: BuildRecord = Field(description="The latest ledger_builds row of the mirror.")
    rows_by_source: dict[str, int] = Field(
        description=(
            "Ledger rows per source_system, counted in the mirror: every source of the "
            "build (its profile's, in the build's order), 0 included, then any other found."
        )
    )
    rejects_by_reason: dict[str, int] = Field(
        description="Diagnostics rows per reason (every reason listed, 0 included)."
    )
    mirror_age_seconds: float = Field(description="Seconds since the mirror was synced.")
    profile: str = Field(
        description=(
            "The input profile the mirror's build was made with: `flat`, `lorchestra` or "
            "`custom` (`flat` for mirrors that do not record one)."
        ),
        examples=["flat"],
    )
    event_types: list[str] = Field(
        description=(
            "The mirror's event types, in display order: what every `event_type` parameter "
            "accepts and what `counts` holds."
        ),
        examples=[["form", "session", "email", "message", "system"]],
    )
    mirror_verification: MirrorVerification | None = Field(
        description=(
            "The check of the mirror file in service (a file that did not verify is not "
            "served: this route answers 503 then, and /health says `mirror_verified: false`)."
        )
    )


class RebuildReport(BaseModel):
    build_id: str
    warehouse: str
    mode: str = Field(description="`full` or `incremental`.")
    ledger_rows: dict[str, int] = Field(description="Ledger rows per source_system.")
    total_rows: int
    rejects_by_reason: dict[str, int]
    error_rejects: int
    duplicates: dict[str, int]
    contacts: int
    mirror_rows: dict[str, int] = Field(description="Rows written per mirror table.")
    build_seconds: float
    sync_seconds: float


class RebuildJob(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "job_id": "5b0c3f1e2a8d4c55",
                    "state": "succeeded",
                    "created_at": TS,
                    "started_at": "2024-05-01T09:30:00.010000Z",
                    "finished_at": "2024-05-01T09:30:11.400000Z",
                    "duration_seconds": 11.39,
                    "report": {
                        "build_id": "6e9f5b06b6e0451689090dc66fe91218",
                        "warehouse": "duckdb",
                        "mode": "full",
                        "ledger_rows": {"canonical.clinical_sessions": 349358},
                        "total_rows": 928497,
                        "rejects_by_reason": {"orphan": 12197},
                        "error_rejects": 47113,
                        "duplicates": {"canonical.clinical_sessions": 9146},
                        "contacts": 50000,
                        "mirror_rows": {"contact_events": 928497},
                        "build_seconds": 5.2,
                        "sync_seconds": 5.8,
                    },
                    "error": None,
                }
            ]
        }
    )
    job_id: str
    state: JobState
    created_at: Timestamp = Field(description=TS_DESC)
    started_at: Timestamp | None = Field(description=TS_DESC + " Null while queued.")
    finished_at: Timestamp | None = Field(description=TS_DESC + " Null until done.")
    duration_seconds: float | None = Field(description="Running time so far, or in total.")
    report: RebuildReport | None = Field(description="Set when succeeded.")
    error: str | None = Field(description="Set when failed; the old mirror is still served.")


class HealthResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "ok", "mirror_available": True, "mirror_verified": True}]
        }
    )
    status: Literal["ok"]
    mirror_available: bool = Field(
        description=(
            "Whether a mirror that verified, with a readable build, is in place: the data "
            "routes answer 503 `mirror_unavailable` while it is false."
        )
    )
    mirror_verified: bool = Field(
        description=(
            "Whether the mirror file in service passed its check (SQLite's quick_check and a "
            "build row; once per file, when it is first seen). False without a mirror."
        )
    )
