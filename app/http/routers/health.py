"""GET /health: 200 while the process is up. No token needed, so it says little."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ...canned.models import HealthResponse
from ..deps import MirrorDep

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Liveness",
    description=(
        "Always 200 while the process is up (no token needed). `mirror_available` tells "
        "whether a mirror that verified, with a readable build, is in place (data routes "
        "answer 503 until it is); `mirror_verified` whether the mirror file in service "
        "passed its check (SQLite's quick_check and a build row, once per file)."
    ),
)
async def health(mirror: MirrorDep) -> dict[str, Any]:
    # In a thread: the first look at a new mirror file verifies it.
    available, verified = await run_in_threadpool(mirror.health)
    return {"status": "ok", "mirror_available": available, "mirror_verified": verified}
