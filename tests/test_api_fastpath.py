"""The lean ASGI path (app/http/fastpath.py) and the documented FastAPI routes call the same
handler: for every kind of request -- answers, pages, 304s, 400s, 401s, 404s -- both give
the same status, headers and body."""

from __future__ import annotations

from test_api_support import AS_OF, READ, TestClient, make_app

from contact_events.app.http.fastpath import CannedRoutes

pytest_plugins = ["test_api_support"]

URLS = [
    f"/contacts/needs-form?as_of={AS_OF}",
    f"/contacts/needs-form?days=0&as_of={AS_OF}&limit=1",
    f"/contacts/gone-quiet?days=0&event_type=message&as_of={AS_OF}",
    f"/contacts/channel-summary?as_of={AS_OF}&limit=2",
    f"/contacts/c1/summary?as_of={AS_OF}",
    "/contacts/c2/timeline?limit=2&as_of=2024-06-30",
    "/events?event_name=Form%20Reminder%20Sent",
    "/events?contact_id=c1&event_type=form",
    # errors
    "/contacts/needs-form?days=-1&limit=0",
    "/contacts/needs-form?day=14",
    "/contacts/needs-form?days=1&days=2",
    "/events?event_type=call",
    "/events?cursor=garbage",
    "/contacts/nobody/timeline",
    "/contacts/nobody/summary",
    "/contacts/" + "x" * 501 + "/summary",
    "/contacts/needs-form?measure=phq8",
    "/contacts/gone-quiet?lifecycle_stage=nope",
    "/contacts/channel-summary?lifecycle_stage=nope&allow_unseen=true",
    "/contacts/c1/timeline?since=2024-02-01&until=2024-01-01",
    "/events?as_of=2024-01-01T00:00:00%2B15:00",
    "/events?as_of=2024-06-30T14:00:00+02:00",
]


def strip_middleware(app):
    kept = [m for m in app.user_middleware if m.cls is not CannedRoutes]
    assert len(kept) == len(app.user_middleware) - 1
    app.user_middleware = kept
    return app


def answers(app, headers):
    with TestClient(app) as http:
        out = []
        for url in URLS:
            response = http.get(url, headers=headers)
            out.append((url, response.status_code, dict(response.headers), response.content))
            etag = response.headers.get("etag")
            if etag:
                again = http.get(url, headers={**headers, "If-None-Match": etag})
                out.append((url, again.status_code, dict(again.headers), again.content))
        return out


def test_fast_path_and_fastapi_routes_answer_alike(practice):
    for headers in ({"Authorization": f"Bearer {READ}"}, {}, {"Authorization": "Bearer x"}):
        # The failed-authentication limit (tests/test_api_limits.py) is lifted here: this
        # test sends more wrong tokens than it allows.
        fast = answers(make_app(practice, auth_failures_per_minute=1000), headers)
        routed = answers(
            strip_middleware(make_app(practice, auth_failures_per_minute=1000)), headers
        )
        assert fast == routed
        statuses = {status for _, status, _, _ in fast}
        assert statuses == (
            {200, 304, 400, 404} if headers.get("Authorization", "")[7:] == READ else {401}
        )
