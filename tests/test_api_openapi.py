"""What /openapi.json declares (the cursor's format too), the one
list of error codes, and /docs and /redoc working with no network."""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs  # schemathesis's validator
import pytest
import uvicorn
from pydantic import BaseModel
from test_api_support import READ, TestClient, auth, make_app

from contact_events.app.canned import models
from contact_events.app.canned.table import ROUTES
from contact_events.app.core.errors import ERROR_CODES
from contact_events.app.http.main import create_app
from contact_events.builder.core.config import Settings

pytest_plugins = ["test_api_support"]

ROOT = Path(__file__).resolve().parents[1]
DOC_PAGES = ["/docs", "/redoc"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    app = create_app(Settings(mirror_path=Path("unused.db"), api_tokens=["unused" * 8]))
    return app.openapi()


def properties(schema: dict[str, Any]):
    """(schema name, property name, property schema) of every component schema."""
    for name, component in schema["components"]["schemas"].items():
        for prop, spec in component.get("properties", {}).items():
            yield name, prop, spec


def branches(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property's schema."""
    options = spec.get("anyOf", [spec])
    return [o for o in options if o.get("type") != "null"]


def test_response_timestamps_are_declared_date_time(schema):
    found = []
    for name, prop, spec in properties(schema):
        looks_like_one = prop.endswith("_at") or prop.endswith("timestamp")
        if looks_like_one or spec.get("description", "").startswith("RFC 3339"):
            found.append((name, prop))
            for option in branches(spec):
                assert (option["type"], option.get("format")) == ("string", "date-time"), (
                    name,
                    prop,
                    spec,
                )
    declared = {
        (model.__name__, name)
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items()
        if (field.description or "").startswith("RFC 3339")
    }
    assert declared <= set(found), found  # every timestamp of every model was looked at
    assert ("LedgerEvent", "event_timestamp") in found
    assert ("RebuildJob", "finished_at") in found


def test_response_timestamps_are_what_they_declare(http: TestClient):
    """The values are RFC 3339 date-times (what `format: date-time` promises)."""
    checker = jsonschema_rs.Draft202012Validator(
        {"type": "string", "format": "date-time"}, validate_formats=True
    )
    values = []
    for url, field in [
        ("/events?as_of=2024-06-30T12:00:00Z", "event_timestamp"),
        ("/contacts/needs-form?as_of=2024-06-30T12:00:00Z", "last_form_at"),
        ("/contacts/gone-quiet?days=0", "last_event_at"),
        ("/contacts/channel-summary", "last_activity_at"),
    ]:
        items = http.get(url, headers=auth(READ)).json()["items"]
        values += [item[field] for item in items if item[field] is not None]
    build = http.get("/status", headers=auth(READ)).json()["build"]
    values += [build["built_at"], build["synced_at"]]
    assert len(values) > 10
    for value in values:
        assert checker.is_valid(value), value


def cursor_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        param
        for path in schema["paths"].values()
        for operation in path.values()
        for param in operation.get("parameters", [])
        if param["name"] == "cursor"
    ]


def test_the_cursor_parameter_declares_its_format(schema, http: TestClient):
    params = cursor_parameters(schema)
    routes = [canned for canned in ROUTES.entries if canned.is_list]
    assert len(params) == len(routes) >= 6  # every list route
    issued = []
    lists = [
        canned.path.replace("{contact_id}", "c1")
        + ("?days=0" if "days" in canned.params.by_name else "")
        for canned in routes
    ]
    for url in lists:
        url += ("&" if "?" in url else "?") + "limit=1"
        issued.append(http.get(url, headers=auth(READ)).json()["next_cursor"])
    assert all(issued)
    for param in params:
        cursor_schema = param["schema"]
        assert "pattern" in cursor_schema
        for cursor in issued:  # what the API issues conforms
            jsonschema_rs.validate(cursor_schema, cursor)
        for bogus in ("0", "", "garbage", "eyJ2IjoxLCJrIjoi!"):  # a schema mismatch...
            with pytest.raises(jsonschema_rs.ValidationError):
                jsonschema_rs.validate(cursor_schema, bogus)
    # ...and a 400 invalid_cursor, as before
    response = http.get("/events?cursor=0", headers=auth(READ))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


# Where a code is written next to the status it answers with, or given as a code.
CODE = r'"([a-z]+(?:_[a-z]+)*)"'
CODE_PATTERNS = [
    rf"\b[1-5]\d\d\s*[,:]\s*{CODE}\s*[,)\n]",  # ApiError(400, "x", ...; (414, "x",; 401: "x",
    rf"\bcode\b[^=\n]*=\s*{CODE}",  # code: ClassVar[str] = "x"; code = "x" if ...
    rf"^\s*code\s*=.*\belse\s+{CODE}",  # code = ... else "x"
    rf"error_body\(\s*{CODE}",  # error_body("x", ...)
    rf"_CODES\.get\([^)]*,\s*{CODE}\)",  # a fallback code
]


def raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name in ("client.py", "errors.py"):
            continue  # the client reads codes; errors.py holds the list itself
        text = path.read_text(encoding="utf-8")
        for pattern in CODE_PATTERNS:
            for match in re.finditer(pattern, text, re.M):
                found.setdefault(match.group(1), []).append(path.name)
    errors_py = (ROOT / "app" / "core" / "errors.py").read_text(encoding="utf-8")
    body = errors_py[errors_py.index("ERROR_CODES:") :]
    body = body[body.index("\n}\n") :]  # errors.py's own code, after the list
    for pattern in CODE_PATTERNS:
        for match in re.finditer(pattern, body, re.M):
            found.setdefault(match.group(1), []).append("errors.py")
    return found


def test_every_error_code_the_app_answers_is_in_the_one_list(schema):
    found = raised_codes()
    # the scan finds what it is meant to
    for code in ("job_store_unavailable", "too_many_requests", "uri_too_long",
                 "header_fields_too_large", "mirror_unavailable", "query_timeout",
                 "invalid_cursor", "unauthorized", "method_not_allowed", "http_error",
                 "internal_error"):  # fmt: skip
        assert code in found, code
    missing = set(found) - set(ERROR_CODES)
    assert not missing, {code: found[code] for code in missing}
    stale = set(ERROR_CODES) - set(found)
    assert not stale, f"listed but never answered: {stale}"
    detail = schema["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    assert detail["enum"] == list(ERROR_CODES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, (status, _) in ERROR_CODES.items():
        assert f"`{code}`" in detail["description"]
        assert re.search(rf"\| `{code}` \| ({status}|4xx) \|", readme), code


def test_every_documented_status_has_its_codes(schema):
    """Each route's documented error statuses are ones the list has."""
    statuses = {status for status, _ in ERROR_CODES.values()}
    for path, item in schema["paths"].items():
        for operation in item.values():
            for status in operation.get("responses", {}):
                if status.startswith(("4", "5")):
                    assert int(status) in statuses, (path, status)


# -- /docs and /redoc offline ------------------------------------------------------------

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def assets_of(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.mark.parametrize("page", DOC_PAGES)
def test_doc_pages_use_only_the_apps_own_assets(http: TestClient, page):
    response = http.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), (
        "the page names an address outside the app"
    )
    assets = assets_of(html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        got = http.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 1000 or asset.endswith(".png"), asset
    assert http.get("/openapi.json").status_code == 200


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to an address outside 127.0.0.0/8 and ::1 fails at once (nothing is
    sent: the check comes before the system call)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    refused: list[Any] = []

    def loopback(address: Any) -> bool:
        if isinstance(address, tuple):
            host = str(address[0])
            return host.startswith("127.") or host in ("::1", "localhost")
        return True  # a Unix socket

    def connect(self, address):
        if not loopback(address):
            refused.append(address)
            raise ConnectionRefusedError(f"network blocked by the test: {address}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not loopback(address):
            refused.append(address)
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return refused


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.02)
    return server, thread, port


def test_doc_pages_load_with_the_network_blocked(practice, no_network):
    with pytest.raises(ConnectionRefusedError):  # the block works (TEST-NET, never sent)
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    no_network.clear()
    server, thread, port = serve_in_thread(make_app(practice))
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for page in DOC_PAGES:
                response = client.get(page)
                assert response.status_code == 200, page
                for asset in assets_of(response.text):
                    assert client.get(asset).status_code == 200, asset
            spec = client.get("/openapi.json")
            assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert no_network == []  # nothing tried to leave the machine
