"""Rows of the lorchestra layout (CONTRACT §7) for tests: canonical_objects and
measurement_events, as `contact-events load DIR` reads them from JSONL."""

from __future__ import annotations

from itertools import count
from typing import Any

_ids = count(1)
SYSTEMS = {
    "contact": "dataverse",
    "clinical_session": "dataverse",
    "email_jmap_lite": "gmail",
    "invoice": "stripe",
    "payment": "stripe",
    "refund": "stripe",
    "customer": "stripe",
}


def obj(
    kind: str,
    payload: Any,
    created_at: str | None = "2024-01-01T00:00:00Z",
    *,
    version: str = "1-0-0",
    vendor: str = "org.canonical",
    source_system: str | None = None,
    idem_key: str | None = None,
) -> dict[str, Any]:
    """One canonical_objects row of `kind` (any Iglu version; another vendor's on ask)."""
    return {
        "idem_key": idem_key or f"idem-{next(_ids)}",
        "source_system": source_system or SYSTEMS.get(kind, "dataverse"),
        "connection_name": "test",
        "object_type": kind,
        "canonical_schema": f"iglu:{vendor}/{kind}/jsonschema/{version}",
        "canonical_format": "json",
        "payload": payload,
        "created_at": created_at,
    }


def contact(contact_id: str, email: str | None, **fields: Any) -> dict[str, Any]:
    created = fields.pop("created_at", "2024-01-01T00:00:00Z")
    version = fields.pop("version", "2-0-0")
    return obj(
        "contact",
        {"contact_id": contact_id, "email": email, **fields},
        created,
        version=version,
    )


def measurement(event_id: str | None, subject: str | None, **fields: Any) -> dict[str, Any]:
    row = {
        "measurement_event_id": event_id,
        "subject_id": subject,
        "event_type": "form",
        "event_subtype": "intake_01",
        "occurred_at": "2024-03-01T09:00:00Z",
        "binding_id": "bind-intake",
        "binding_version": "1",
        "form_id": "form-1",
        "source_id": "sub-1",
        "canonical_object_id": "obj-1",
        "processed_at": "2024-03-01T09:05:00Z",
    }
    row.update(fields)
    return row
