"""GET /contacts/no-session (CONTRACT §5): contacts whose latest `session` event is before
the cut-off, or who have none, ordered by last_session_at (nulls first), then contact_id.
The route is one SQL file, one declaration and one model (docs/architecture.md)."""

from __future__ import annotations

from test_api_support import AS_OF, READ, as_sent, auth, client_for, make_app

pytest_plugins = ["test_api_support"]


def rows(api, **params):
    return [(r.contact_id, as_sent(r.last_session_at)) for r in api.no_session(**params).items]


def test_default_30_days_nulls_first_then_oldest(api):
    # cut-off 2024-05-31T12:00Z: Dee has no session; Cy's and Bob's are older.
    assert rows(api, as_of=AS_OF) == [
        ("c4", None),
        ("c3", "2024-03-01T09:00:00.000000Z"),
        ("c2", "2024-05-10T09:00:00.000000Z"),
    ]
    assert rows(api, days=30, as_of=AS_OF) == rows(api, as_of=AS_OF)


def test_the_cut_off_is_strict_and_as_of_hides_later_sessions(api):
    # cut-off exactly at Eve's session (2024-06-29T10:00Z): not "before" it
    at_eve = [c for c, _ in rows(api, days=2, as_of="2024-07-01T10:00:00Z")]
    assert "c5" not in at_eve and "c1" in at_eve
    # as of June 1st Ada's and Eve's sessions have not happened: they have none
    assert rows(api, days=30, as_of="2024-06-01T00:00:00Z") == [
        ("c1", None),
        ("c4", None),
        ("c5", None),
        ("c3", "2024-03-01T09:00:00.000000Z"),
    ]


def test_lifecycle_stage_and_a_typo(api, http):
    assert rows(api, as_of=AS_OF, lifecycle_stage="active") == [
        ("c2", "2024-05-10T09:00:00.000000Z")
    ]
    typo = http.get("/contacts/no-session?lifecycle_stage=actve", headers=auth(READ))
    assert typo.status_code == 400 and "known: 'active'" in typo.json()["error"]["message"]


def test_the_answer_is_the_contract_s_shape_and_pages(practice):
    test_client, api = client_for(make_app(practice))
    with test_client:
        raw = test_client.get(f"/contacts/no-session?as_of={AS_OF}&limit=2", headers=auth())
        assert raw.status_code == 200 and raw.headers["etag"]
        first = raw.json()
        assert first["items"][0] == {
            "contact_id": "c4",
            "email": "dee@example.org",
            "first_name": "Dee",
            "last_name": "Dee",
            "last_session_at": None,
        }
        assert first["next_cursor"] is not None
        walked = [r.contact_id for r in api.iter_no_session(as_of=AS_OF, limit=1)]
        assert walked == ["c4", "c3", "c2"]
