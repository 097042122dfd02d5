"""Every error the client raises on purpose is a `ContactEventsError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contact_events_client.models import RebuildJob


class ContactEventsError(Exception):
    """Anything the client raises on purpose."""


class ContactEventsAPIError(ContactEventsError):
    """A 4xx/5xx answer: HTTP status, the error code, message and field of the JSON body,
    and `retry_after` (seconds) when the answer said when to try again (429, 503)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        text = f"{status} {code}: {message}"
        if retry_after is not None:
            text += f" (retry after {retry_after:g} s)"
        super().__init__(text)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after


class ContactEventsConnectionError(ContactEventsError):
    """The API did not answer: refused, unreachable or timed out."""


class ContactEventsConfigError(ContactEventsError, ValueError):
    """`from_env()` without the variables it needs."""


class RebuildFailedError(ContactEventsError):
    """`wait_for_rebuild`: the job ended `failed` (the previous mirror is still served).
    `job` is the final job, its `error` the reason."""

    def __init__(self, job: RebuildJob) -> None:
        super().__init__(f"rebuild job {job.job_id} failed: {job.error}")
        self.job = job
