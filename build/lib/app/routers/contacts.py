"""/contacts/...: needs-form, gone-quiet, channel-summary, one contact's summary and timeline.

Each is a canned query (app/canned.py) answered by the generic handler: needs-form,
gone-quiet and channel-summary look at every contact, so they run in the thread pool
(needs-form and gone-quiet keep their answer's order for the cursor's life); summary and
timeline are index probes of one contact and run directly on the event loop.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.canned import CHANNEL_SUMMARY, CONTACT_SUMMARY, GONE_QUIET, NEEDS_FORM, TIMELINE
from app.routes import add_canned_route

router = APIRouter(prefix="/contacts", tags=["contacts"])

for _canned in (NEEDS_FORM, GONE_QUIET, CHANNEL_SUMMARY, CONTACT_SUMMARY, TIMELINE):
    add_canned_route(router, _canned, _canned.path.removeprefix("/contacts"))
