"""The API application's answers on every route: security headers, the engine's clock, the audit row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.identity import Identity, LoginPolicy
from api.services import Services
from router.photos import PhotoLimits, Photos
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.photo_files import DirectoryFiles
from router.store.tables import access_log
from schemas.topics import Topics

ENGINE_TIME = datetime(2026, 11, 30, 1, 2, 3, 456000, tzinfo=UTC)


@pytest.fixture
def client(tmp_path, xiaoshan):
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    upgrade(engine)
    services = Services.build(engine, xiaoshan, Topics(), Identity(engine.begin, LoginPolicy()), lambda: ENGINE_TIME,
                              Photos(DirectoryFiles(tmp_path / "photos"), engine.begin, PhotoLimits()))
    with TestClient(create_app(services)) as client:
        yield client, engine
    engine.dispose()


@pytest.mark.parametrize("path", ["/healthz", "/console/", "/api/v1/orders", "/api/v1/no-such-route", "/api/docs"])
def test_every_answer_carries_the_security_headers_and_the_engines_clock(client, path):
    response = client[0].get(path)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-fengqiao-time"] == "2026-11-30T01:02:03.456+00:00"


def test_an_anonymous_call_is_refused_and_audited(client):
    test_client, engine = client
    response = test_client.get("/api/v1/orders/WO0000000000001")
    assert response.status_code == 401 and response.json()["message"] == "请先登录"
    with engine.connect() as conn:
        row = conn.execute(select(access_log)).one()
    assert (row.user_id, row.action, row.order_id, row.outcome, row.status) == (
        None, "orders.read", "WO0000000000001", "denied", 401)


@pytest.mark.parametrize(("code", "name"), [("330109001", "城厢街道"), ("999999999", "999999999")])
def test_units_are_named_by_the_jurisdiction(xiaoshan, code, name):
    assert xiaoshan.unit_name(code) == name


def test_the_district_centre_has_a_name_too(xiaoshan):
    centre = xiaoshan.district_centre
    assert xiaoshan.unit_name(centre.code) == centre.name != centre.code


def test_the_api_docs_work_offline_from_the_products_own_swagger_ui(client):
    page = client[0].get("/api/docs")
    assert page.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.replace("http-equiv", ""), "nothing fetched from elsewhere"
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client[0].get(f"/api/docs/assets/{asset}").status_code == 200
    assert "script-src 'self' 'unsafe-inline'" in page.headers["content-security-policy"]
