"""The API's limits and headers on every answer: bodies capped before parsing, Problems for the framework's
own errors, no caching of personal data, HSTS behind HTTPS, redirects that ignore `Host`, streams per user."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.errors import ApiError
from api.identity import Identity, LoginPolicy
from api.limits import HttpLimits
from api.live import StreamSlots
from api.services import Services
from router.photos import PhotoLimits, Photos
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.photo_files import DirectoryFiles
from router.store.tables import access_log
from schemas.topics import Topics

NOW = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
SIXTEEN_MB = 16 * 1024 * 1024


def _services(tmp_path, xiaoshan, secure_cookies: bool = False) -> Services:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    upgrade(engine)
    return Services.build(engine, xiaoshan, Topics(), Identity(engine.begin, LoginPolicy()), lambda: NOW,
                          Photos(DirectoryFiles(tmp_path / "photos"), engine.begin, PhotoLimits()),
                          secure_cookies=secure_cookies)


@pytest.fixture
def services(tmp_path, xiaoshan):
    built = _services(tmp_path, xiaoshan)
    yield built
    built.engine.dispose()


@pytest.fixture
def client(services):
    with TestClient(create_app(services)) as client:
        yield client


def _asgi(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> tuple[dict, int]:
    """One request straight through the ASGI interface: the answer's start and body, and how many body
    bytes the application asked the server for."""
    asked = 0
    messages: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += len(body)
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return {"status": start["status"], "headers": dict(start["headers"]), "body": json.loads(answer)}, asked


def test_a_16_mb_body_is_refused_without_reading_a_byte_and_audited(services):
    answer, asked = _asgi(create_app(services), "POST", "/api/v1/session",
                          [(b"host", b"t"), (b"content-type", b"application/json"),
                           (b"content-length", str(SIXTEEN_MB).encode())], b"{}")
    assert asked == 0
    assert answer["status"] == 413 and answer["headers"][b"connection"] == b"close"
    assert answer["body"] == {"code": "request_too_large", "message": "请求内容过大，最多 64 KB",
                              "detail": f"Content-Length {SIXTEEN_MB}, at most 65536"}
    with services.engine.connect() as conn:
        row = conn.execute(select(access_log)).one()
    assert (row.action, row.outcome, row.status, row.detail) == (
        "POST unmatched", "rejected", 413, f"Content-Length {SIXTEEN_MB}, at most 65536")


def test_a_body_without_a_length_is_cut_once_it_passes_the_cap(client):
    chunks = (b" " * 16_384 for _ in range(5))  # no Content-Length: sent chunked
    answer = client.post("/api/v1/session", content=chunks, headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (413, "request_too_large")


def test_the_cap_is_a_setting_and_a_body_within_it_is_read(services):
    with TestClient(create_app(services, limits=HttpLimits(body_max_bytes=4096))) as client:
        within = client.post("/api/v1/session", json={"username": "nobody", "password": "x" * 3000})
        past = client.post("/api/v1/session", json={"username": "nobody", "password": "x" * 5000})
    assert (within.status_code, within.json()["code"]) == (422, "invalid_request"), "read and parsed"
    assert (past.status_code, past.json()["message"]) == (413, "请求内容过大，最多 4 KB")


def test_a_photo_upload_has_its_own_larger_cap(client):
    answer = client.post("/api/v1/orders/WO1/photos", content=b"\xff\xd8" + b"\0" * 100_000,
                         headers={"content-type": "image/jpeg"})
    assert answer.status_code == 401, "a 100 KB photo passes the 64 KiB JSON cap (and then needs a sign-in)"
    too_large = client.post("/api/v1/orders/WO1/photos", headers={"content-type": "image/jpeg",
                                                                 "content-length": str(SIXTEEN_MB)})
    assert (too_large.status_code, too_large.json()["code"]) == (413, "photo_too_large")


@pytest.mark.parametrize(("method", "path", "status", "code", "message"), [
    ("GET", "/api/v1/no-such-route", 404, "not_found", "请求的地址不存在"),
    ("GET", "/console/no-such-file.js", 404, "not_found", "请求的地址不存在"),
    ("DELETE", "/api/v1/orders", 405, "method_not_allowed", "不支持该请求方法"),
])
def test_the_frameworks_own_errors_are_problems(client, method, path, status, code, message):
    answer = client.request(method, path)
    assert answer.status_code == status
    assert answer.json()["code"] == code and answer.json()["message"] == message and answer.json()["detail"]
    if status == 405:
        assert answer.headers["allow"] == "GET"


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/reference", "/api/v1/no-such-route"])
def test_api_answers_are_never_cached(client, path):
    assert client.get(path).headers["cache-control"] == "no-store"


def test_hsts_only_behind_https(tmp_path, xiaoshan, client):
    assert "strict-transport-security" not in client.get("/healthz").headers
    behind_https = _services(tmp_path / "https", xiaoshan, secure_cookies=True)
    with TestClient(create_app(behind_https)) as https:
        assert https.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    behind_https.engine.dispose()


@pytest.mark.parametrize(("path", "location"), [("/", "/console/"), ("/console", "/console/")])
def test_redirects_ignore_the_host_header(client, path, location):
    answer = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
    assert answer.status_code in (301, 302, 307) and answer.headers["location"] == location


def test_a_user_holds_at_most_the_cap_of_streams_and_a_finished_one_gives_its_slot_back():
    slots = StreamSlots(per_user=2)
    first, _ = slots.take("u-1"), slots.take("u-1")
    with pytest.raises(ApiError) as refused:
        slots.take("u-1")
    assert (refused.value.status, refused.value.problem.code) == (429, "too_many_streams")
    slots.take("u-2")  # another user's own
    first()
    slots.take("u-1")
