"""The Python client of the contact-events API: one typed method per route.

    from contact_events_client import ContactEventsClient

    with ContactEventsClient.from_env() as api:  # CONTACT_EVENTS_API_URL, _API_TOKEN
        for row in api.iter_needs_form(days=14, measure="phq9"):
            print(row.contact_id, row.email, row.last_form_at)

Every method returns the API's response models (`contact_events_client.models`:
`NeedsFormPage`, `LedgerEvent`, `RebuildJob`, ...), parsed and checked, timestamps as
`datetime` in UTC; the `iter_*` methods follow `next_cursor` across pages and yield the
items. Filters are keyword arguments with types (a misspelt one is a `TypeError` before
any request); `as_of`, `since` and `until` take a `datetime` (naive = UTC), a `date`
(midnight UTC) or an RFC 3339 string.

Errors: every one the client raises is a `ContactEventsError`. A 4xx/5xx answer is a
`ContactEventsAPIError` (status, code, message, field, and `retry_after` in seconds when the
answer carried `Retry-After`); an API that cannot be reached a `ContactEventsConnectionError`;
a missing environment variable in `from_env()` a `ContactEventsConfigError` (a ValueError);
a rebuild that failed, in `wait_for_rebuild`, a `RebuildFailedError` carrying the job.
"""

from contact_events_client.base import Timestamp
from contact_events_client.client import ContactEventsClient
from contact_events_client.errors import (
    ContactEventsAPIError,
    ContactEventsConfigError,
    ContactEventsConnectionError,
    ContactEventsError,
    RebuildFailedError,
)

__all__ = [
    "ContactEventsAPIError",
    "ContactEventsClient",
    "ContactEventsConfigError",
    "ContactEventsConnectionError",
    "ContactEventsError",
    "RebuildFailedError",
    "Timestamp",
]
