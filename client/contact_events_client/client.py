"""`ContactEventsClient`: the generated route methods (routes.py) and the routes that are
not canned queries (health, status, rebuild), written here."""

from __future__ import annotations

import time

from contact_events_client.base import segment
from contact_events_client.errors import RebuildFailedError
from contact_events_client.models import HealthResponse, RebuildJob, StatusResponse
from contact_events_client.routes import RouteMethods


class ContactEventsClient(RouteMethods):
    """One typed method per route of the contact-events API (see the package docstring)."""

    def health(self) -> HealthResponse:
        """GET /health (no token needed)."""
        return self._request(HealthResponse, "GET", "/health")

    def status(self) -> StatusResponse:
        """GET /status: the latest build, profile, event types, counts and mirror age."""
        return self._request(StatusResponse, "GET", "/status")

    def rebuild(self) -> RebuildJob:
        """POST /rebuild (admin token): the new job, or the one already queued or running."""
        return self._request(RebuildJob, "POST", "/rebuild")

    def rebuild_job(self, job_id: str) -> RebuildJob:
        """GET /rebuild/{job_id} (any token)."""
        return self._request(RebuildJob, "GET", f"/rebuild/{segment(job_id)}")

    def wait_for_rebuild(
        self, job_id: str, *, timeout: float = 600.0, poll: float = 1.0
    ) -> RebuildJob:
        """Poll the job every `poll` seconds until it has finished; return it if it
        `succeeded`. A `failed` job raises `RebuildFailedError` (its `job` is the final
        job; the previous mirror is still served); a job still queued or running after
        `timeout` seconds raises `TimeoutError` naming it (the job itself goes on). An
        error answer while polling (an unknown job id, 404) raises as any call does."""
        if timeout < 0 or poll <= 0:
            raise ValueError("wait_for_rebuild: timeout must be >= 0 and poll > 0")
        deadline = time.monotonic() + timeout
        while True:
            job = self.rebuild_job(job_id)
            if job.state == "failed":
                raise RebuildFailedError(job)
            if job.state == "succeeded":
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"rebuild job {job_id} still {job.state} after {timeout:g} s "
                    f"(GET /rebuild/{job_id} to follow it)"
                )
            time.sleep(min(poll, left))
