"""GET /health: 200 while the process is up. No token needed, so it says little."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import MirrorDep
from app.models import HealthResponse

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Liveness",
    description=(
        "Always 200 while the process is up (no token needed). `mirror_available` tells "
        "whether a readable mirror is in place; data routes answer 503 until it is."
    ),
)
async def health(mirror: MirrorDep) -> dict[str, Any]:
    return {"status": "ok", "mirror_available": mirror.available()}
