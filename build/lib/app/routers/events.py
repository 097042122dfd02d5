"""GET /events: ledger rows matching every given filter, orphans included.

A canned query (app/canned.py) with three SQL variants: with a `contact_id` an index probe
of one contact (timeline.sql, on the event loop); otherwise a walk of the time index
(events.sql, or events_by_name.sql for an `event_name`) in the thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.canned import EVENTS
from app.routes import add_canned_route

router = APIRouter(tags=["events"])

add_canned_route(router, EVENTS, EVENTS.path)
