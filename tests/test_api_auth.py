"""Bearer tokens, the admin token, start-up without tokens, and what gets logged."""

from __future__ import annotations

import logging

import pytest
from test_api_support import (
    ADMIN,
    DATA_URLS,
    READ,
    READ2,
    TestClient,
    auth,
    make_app,
)

from contact_events.app.core.auth import Authenticator, Role
from contact_events.app.http.main import create_app
from contact_events.builder.core.config import Settings
from contact_events.builder.core.errors import ConfigError

# Fixtures (practice, api, http) live in test_api_support.
pytest_plugins = ["test_api_support"]

READ_ROUTES = [*DATA_URLS, "/status"]


def assert_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert "Bearer" in error["message"]


@pytest.mark.parametrize("url", READ_ROUTES)
def test_read_routes_need_a_token(http: TestClient, url: str):
    assert_401(http.get(url))
    assert_401(http.get(url, headers=auth("wrong")))
    assert_401(http.get(url, headers=auth(READ + "x")))
    assert_401(http.get(url, headers=auth(READ[:-1])))
    assert_401(http.get(url, headers={"Authorization": READ}))
    assert_401(http.get(url, headers={"Authorization": f"Basic {READ}"}))
    assert_401(http.get(url, headers={"Authorization": "Bearer "}))
    assert_401(http.get(url, headers={"Authorization": "Bearer é".encode()}))
    assert_401(http.get(url, headers={"Authorization": b"Bearer \xff\xfe"}))
    for token in (READ, READ2, ADMIN):  # the admin token also reads
        assert http.get(url, headers=auth(token)).status_code == 200, (url, token)


def test_rebuild_needs_the_admin_token_and_jobs_any_token(http: TestClient):
    """CONTRACT §5: every route needs a bearer token; POST /rebuild the admin one."""
    assert_401(http.post("/rebuild"))
    assert_401(http.post("/rebuild", headers=auth("wrong")))
    assert_401(http.get("/rebuild/abc"))
    assert_401(http.get("/rebuild/abc", headers=auth("wrong")))
    for token in (READ, READ2):
        response = http.post("/rebuild", headers=auth(token))
        assert response.status_code == 403
        assert response.json()["error"] == {
            "code": "forbidden",
            "message": "this route needs the admin token",
            "field": None,
        }
    for token in (READ, READ2, ADMIN):
        missing = http.get("/rebuild/abc", headers=auth(token))
        assert missing.status_code == 404, token
        assert missing.json()["error"]["field"] == "job_id"


def test_rebuild_without_admin_token_configured_is_403(practice):
    with TestClient(make_app(practice, admin_token=None)) as http:
        response = http.post("/rebuild", headers=auth(READ))
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert "no admin token is configured" in error["message"]
        assert_401(http.post("/rebuild"))  # anonymous callers learn nothing about config
        assert http.get("/rebuild/abc", headers=auth(READ)).status_code == 404
        assert http.get("/status", headers=auth(READ)).status_code == 200


def test_authenticator_roles():
    auth_ = Authenticator(["a", "b"], "z")
    assert auth_.role("a") is Role.read and auth_.role("b") is Role.read
    assert auth_.role("z") is Role.admin
    assert auth_.role("c") is None and auth_.role("") is None and auth_.role(None) is None
    assert auth_.role("\udcff") is None  # undecodable input never raises
    assert Authenticator([], None).role("") is None
    same = Authenticator(["z"], "z")
    assert same.role("z") is Role.admin


def test_app_builds_without_tokens_but_refuses_to_start(tmp_path):
    settings = Settings(mirror_path=tmp_path / "m.db", api_tokens=[], admin_token=None)
    app = create_app(settings)  # constructing never raises
    with pytest.raises(ConfigError, match="CONTACT_EVENTS_API_TOKENS"):
        with TestClient(app):
            pass


def test_no_app_is_built_at_import_and_the_factory_reads_the_environment(monkeypatch, tmp_path):
    """uvicorn's factory mode (`app.http.main:create_app`): nothing runs at import time, and a bad
    setting is one ConfigError line naming the variable, not a pydantic traceback."""
    import contact_events.app.http.main

    assert not hasattr(contact_events.app.http.main, "app")
    monkeypatch.chdir(tmp_path)  # no contact-events.toml here
    monkeypatch.setenv("CONTACT_EVENTS_MIRROR_PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("CONTACT_EVENTS_API_TOKENS", "env-token-0123456789abcdef0123456789")
    built = create_app()
    assert built.title == "contact-events"
    assert built.state.settings.api_tokens == ["env-token-0123456789abcdef0123456789"]
    monkeypatch.setenv("CONTACT_EVENTS_MAX_ROWS", "lots")
    with pytest.raises(ConfigError) as err:
        create_app()
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("bad configuration: CONTACT_EVENTS_MAX_ROWS: ")


def test_serve_refuses_without_tokens(tmp_path):
    from contact_events.app.http.serve import serve

    with pytest.raises(ConfigError, match="^no API tokens: set CONTACT_EVENTS_API_TOKENS") as err:
        serve(Settings(mirror_path=tmp_path / "m.db", api_tokens=[]))
    assert "\n" not in str(err.value)


def test_logs_have_no_tokens_emails_or_query_strings(http: TestClient, caplog):
    caplog.set_level(logging.DEBUG)
    email = "secret.person@example.org"
    http.get(f"/events?contact_id={email}&event_name=Form", headers=auth(READ))
    http.get(f"/contacts/needs-form?measure={email}", headers=auth("wrong-token-xyz"))
    http.get("/contacts/c1/timeline?limit=5", headers=auth(READ))
    http.post("/rebuild", headers=auth(READ))
    # Everything the server side logged (the test's own httpx client logs URLs: not ours).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in server)
    for secret in (READ, "wrong-token-xyz", email, "secret.person", "?"):
        assert secret not in text
    lines = [r.getMessage() for r in caplog.records if r.name == "contact_events.access"]
    assert len(lines) == 4
    method, path, status, duration = lines[0].split()
    assert (method, path, status) == ("GET", "/events", "200")
    assert duration.endswith("ms")
    assert lines[1].startswith("GET /contacts/needs-form 401 ")
    assert lines[2].startswith("GET /contacts/c1/timeline 200 ")
    assert lines[3].startswith("POST /rebuild 403 ")


def test_log_config_silences_uvicorn_access_log():
    import logging.config

    from contact_events.app.http.logging import LOG_CONFIG, log_config

    assert LOG_CONFIG["loggers"]["uvicorn.access"]["handlers"] == []
    logging.config.dictConfig(log_config("WARNING"))
    try:
        assert logging.getLogger("uvicorn.access").getEffectiveLevel() > logging.ERROR
        assert not logging.getLogger("contact_events.access").propagate
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "contact_events",
                     "contact_events.access"):  # fmt: skip
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
