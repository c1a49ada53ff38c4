"""The running worker with the second example bundle (Port Alder, a fictional English-language city, unit codes
PA-N1...): its labelled calls, fed through Tansu without a town_code, end where the labels say, routed by
streets and house numbers, unit aliases and neighbourhood names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import incidents, work_orders
from schemas import IncidentV1
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest
from tests.integration.support import consume_all, produce, wait_for
from workers.evaluation_report import read_cases
from workers.settings import Settings

pytestmark = pytest.mark.integration

PORT_ALDER = Path(__file__).resolve().parents[2] / "jurisdictions" / "port-alder"
RECEIVED = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 09:00 in Port Alder


def _records() -> list[tuple[str, bytes, object]]:
    """(source id, feed bytes, its labelled case) for every case of the bundle, a minute apart."""
    cases = list(read_cases(PORT_ALDER / "cases" / "handwritten.jsonl"))
    records = []
    for i, case in enumerate(cases):
        incident = IncidentV1(source_id=case.case_id, source_system="911", received_at=RECEIVED + timedelta(minutes=i),
                              channel="phone", category_code=case.category_code, category_name=case.category_name,
                              summary=case.summary, address=case.address)
        records.append((case.case_id, incident.model_dump_json(by_alias=True).encode(), case))
    return records


def _route_all(broker, make_worker, pg_url) -> tuple[list, Topics, dict]:
    """Every labelled call fed through the worker: (the records, the topics, each incident's row by id)."""
    worker = make_worker(pg_url, FENGQIAO_JURISDICTION=str(PORT_ALDER))
    topics = Settings(topic_prefix=worker.prefix).topics
    records = _records()
    worker.start()
    produce(broker.bootstrap, topics.incidents, [(sid.encode(), value) for sid, value, _ in records])
    engine = make_engine(pg_url)

    def routed() -> dict:
        with engine.connect() as conn:
            return {r.incident_id: r for r in conn.execute(select(incidents))}

    wait_for(lambda: len(routed()) == len(records), 180, "every Port Alder call routed")
    rows = routed()
    engine.dispose()
    return records, topics, rows


def test_port_alder_calls_reach_their_units_through_the_worker(broker, make_worker, pg_url):
    jurisdiction = load_bundle(PORT_ALDER)
    records, topics, rows = _route_all(broker, make_worker, pg_url)
    outcomes = {sid: (r.outcome, r.order_id) for sid, r in rows.items()}
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        orders = {r.order_id: r for r in conn.execute(select(work_orders))}
    engine.dispose()
    police = {r.key.decode(): r.value for r in consume_all(broker.bootstrap, topics.police)}

    for sid, value, case in records:
        outcome, order_id = outcomes[sid]
        assert outcome == case.expect_where, f"{sid}: {case.summary!r} went to {outcome}"
        if case.expect_where == "police":
            assert police[sid] == value, "police receives the feed's bytes unchanged"
        else:
            order = orders[order_id]
            expected_centre = jurisdiction.centre_for(case.expect_town_code).code
            assert (order.town_code, order.centre_code) == (case.expect_town_code, expected_centre), sid
    assert set(police) == {sid for sid, _, case in records if case.expect_where == "police"}

    # An onboarded district's own topic carries its orders' events, under its own code.
    events = [json.loads(r.value) for r in consume_all(broker.bootstrap, topics.centre_orders("PA-S1"), idle_s=0.5)]
    assert events and {e["centre_code"] for e in events} == {"PA-S1"}


def test_port_alder_units_are_read_through_the_api_by_their_own_codes(broker, make_worker, pg_url):
    """The API takes the bundle's codes (PA-S1), scopes a district's leader to it, and counts its calls police
    included (接警), with the figures equal to the rows behind them."""
    _, _, rows = _route_all(broker, make_worker, pg_url)
    placed = list(rows.values())
    south = [r for r in placed if r.town_code == "PA-S1"]
    assert any(r.outcome == "police" for r in south), "a police call is placed in its unit too"

    api = ApiUnderTest.start(pg_url, bundle=PORT_ALDER)
    try:
        leader = api.client("pa-s1-leader")
        period = {"from": "2026-11", "to": "2026-11"}
        orders = leader.get("/api/v1/orders", params={"town": "PA-S1", "limit": 500})
        assert orders.status_code == 200, orders.text
        assert {o["order_id"] for o in orders.json()["items"]} == {r.order_id for r in south if r.order_id}
        town = leader.get("/api/v1/cockpit/towns/PA-S1", params=period)
        assert town.status_code == 200, town.text
        assert town.json()["total"]["received"] == len(south)
        assert leader.get("/api/v1/cockpit/towns/PA-N1", params=period).status_code == 404  # another unit
        mine = leader.get("/api/v1/cockpit/map").json()["features"]  # the bundle's boundaries, its own only
        assert [(f["properties"]["town_code"], f["properties"]["name"]) for f in mine] == [("PA-S1", "Millbrook District")]
        assert mine[0]["geometry"]["type"] == "Polygon" and len(mine[0]["geometry"]["coordinates"][0]) == 5
        assert leader.get("/api/v1/orders", params={"town": "PA S1"}).status_code == 422  # no such characters
        everyone = api.client("district-supervisor").get("/api/v1/cockpit/map").json()["features"]
        assert sorted(f["properties"]["town_code"] for f in everyone) == sorted(t.code for t in api.jurisdiction.towns)
        district = api.client("district-supervisor").get("/api/v1/cockpit/district", params=period)
        assert district.status_code == 200, district.text
        received = {u["code"]: u["received"] for u in district.json()["units"]}
        centre = api.jurisdiction.district_centre.code  # its own line: dispatches only, no incidents
        assert received == {centre: 0, **{t.code: sum(r.town_code == t.code for r in placed)
                                          for t in api.jurisdiction.towns}}
    finally:
        api.stop()
