"""GET /status: the mirror's latest build, row counts, rejects and age."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from app.deps import MirrorDep, ReadAuth, StrictQuery, read
from app.models import StatusResponse
from app.responses import AUTH_ERRORS, error_doc
from app.timestamps import mirror_to_datetime, now_utc, to_rfc3339

router = APIRouter(
    tags=["status"],
    dependencies=[ReadAuth, StrictQuery],
    responses={**AUTH_ERRORS, 503: error_doc("No mirror yet, or it cannot be read.")},
)


@router.get(
    "/status",
    response_model=StatusResponse,
    summary="Mirror status",
    description=(
        "The mirror's latest `ledger_builds` row (JSON columns as objects), ledger rows per "
        "`source_system` and diagnostics per reason counted in the mirror, and the mirror's "
        "age in seconds (now - `synced_at`). 503 when there is no mirror yet."
    ),
)
async def status(response: Response, mirror: MirrorDep) -> dict[str, Any]:
    snapshot = read(mirror, response, mirror.cached_status)
    if snapshot is None:
        # Counting scans the ledger's index (~40 ms per million rows): once per build of
        # each mirror file, off the event loop, in one snapshot with the build it reports.
        snapshot = await run_in_threadpool(read, mirror, response, mirror.status_snapshot)
    build = dict(snapshot.build.row)
    for column in ("built_at", "synced_at"):
        build[column] = to_rfc3339(build[column])
    synced = mirror_to_datetime(snapshot.build.synced_at)
    age = (now_utc() - synced).total_seconds() if synced is not None else 0.0
    return {
        "build": build,
        "rows_by_source": snapshot.rows_by_source,
        "rejects_by_reason": snapshot.rejects_by_reason,
        "mirror_age_seconds": round(max(age, 0.0), 3),
    }
