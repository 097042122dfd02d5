"""POST /rebuild (admin token), GET /rebuild/{job_id} (any token): build + sync in the
background. CONTRACT §5 asks the admin token for starting a rebuild only; automation
holding a read token can follow a job someone else started."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool

from ...canned.models import RebuildJob
from ...core.errors import ApiError
from ..deps import AdminAuth, JobsDep, ReadAuth, StrictQuery
from ..responses import AUTH_ERRORS, error_doc

log = logging.getLogger("contact_events.api")
T = TypeVar("T")

router = APIRouter(
    prefix="/rebuild",
    tags=["rebuild"],
    responses={
        **AUTH_ERRORS,
        503: error_doc("The job store beside the mirror cannot be used (`job_store_unavailable`)."),
    },
)


@router.post(
    "",
    dependencies=[AdminAuth, StrictQuery],  # auth first, as on every router
    responses={
        403: error_doc("A read token, or no admin token configured (rebuild disabled)."),
    },
    response_model=RebuildJob,
    status_code=202,
    summary="Start a rebuild",
    description=(
        "Starts build + sync in the background and answers 202 with the job. While a job is "
        "queued or running, the same job is returned (never two at once). A failed rebuild "
        "leaves the previous mirror in place. Poll GET /rebuild/{job_id}."
    ),
)
async def start_rebuild(response: Response, jobs: JobsDep) -> dict[str, Any]:
    # The job store is a SQLite file that another worker may hold for a moment.
    job, _started = await run_in_threadpool(job_store, jobs.submit)
    response.headers["Location"] = f"/rebuild/{job['job_id']}"
    return job


@router.get(
    "/{job_id}",
    dependencies=[ReadAuth, StrictQuery],
    response_model=RebuildJob,
    summary="A rebuild job",
    description=(
        "State (`queued`, `running`, `succeeded`, `failed`), timings, and the report or the "
        "error text. The last 50 jobs are kept (shared by every API worker); 404 for any other "
        "id. "
        "Any token (read or admin)."
    ),
    responses={404: error_doc("Unknown job id.")},
)
async def get_rebuild(
    job_id: Annotated[str, Path(max_length=64, description="The job_id POST /rebuild gave.")],
    jobs: JobsDep,
) -> dict[str, Any]:
    job = await run_in_threadpool(job_store, jobs.get, job_id)
    if job is None:
        raise ApiError(404, "not_found", "no rebuild job with this job_id", field="job_id")
    return job


def job_store(call: Callable[..., T], *args: Any) -> T:
    """A job-store call; a store that cannot be used is a 503, not a bug (500)."""
    try:
        return call(*args)
    except sqlite3.Error as e:
        log.error("rebuild job store unavailable: %s", e)
        raise ApiError(
            503,
            "job_store_unavailable",
            "the rebuild job store cannot be used right now; the mirror is still served",
            headers={"Retry-After": "30"},
        ) from None
