"""区中心代管: the orders of towns not onboarded are worked by the district centre's own operator, with the
same clocks, charged to the district centre; onboarding the town later hands its open orders over with
a trace — on PostgreSQL, over HTTP as the console does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from router.bundle import load_bundle
from router.onboarding import hand_over_onboarded
from router.store import statistics
from router.store.tables import holdings, order_events, sla_timers
from schemas.topics import Topics
from tests.integration.api_support import BUNDLE

pytestmark = pytest.mark.integration

CHENGXIANG = "330109001"  # 城厢街道: not onboarded in the Xiaoshan bundle


def charged(api, order_id: str) -> tuple[list[str], set[str]]:
    """The units of the order's holding segments, oldest first, and of its pending timers."""
    with api.engine.connect() as conn:
        segments = list(conn.scalars(select(holdings.c.unit_code).where(holdings.c.order_id == order_id)
                                     .order_by(holdings.c.from_at, holdings.c.unit_code)))
        timers = set(conn.scalars(select(sla_timers.c.unit_code).where(sla_timers.c.order_id == order_id,
                                                                        sla_timers.c.status == "pending")))
    return segments, timers


def test_the_district_operator_works_a_town_not_onboarded_charged_to_the_district(api):
    district = api.jurisdiction.district_centre.code
    order_id = api.open_order(summary="小区路灯坏了好几天，晚上一片漆黑", address="萧山区城厢街道")
    xintang_order = api.open_order()
    operator = api.client("district-op")
    order = operator.get(f"/api/v1/orders/{order_id}").json()
    assert (order["town_code"], order["centre_code"], order["district_run"]) == (CHENGXIANG, district, True)
    assert "acknowledge" in order["allowed_actions"]
    assert charged(api, order_id) == ([district], {district})

    assert operator.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    reported = operator.post(f"/api/v1/orders/{order_id}/report", json={"text": "已联系城管修复"})
    assert reported.status_code == 200 and reported.json()["order"]["state"] == "reported"

    # A town that works its own orders: the district operator reads them, and may not act for the town.
    assert operator.get(f"/api/v1/orders/{xintang_order}").json()["allowed_actions"] == []
    refused = operator.post(f"/api/v1/orders/{xintang_order}/acknowledge", json={})
    assert refused.status_code == 403 and refused.json()["code"] == "other_town"
    listed = operator.get("/api/v1/orders", params={"district_run": "true"}).json()["items"]
    assert [o["order_id"] for o in listed] == [order_id]

    # The town is not charged for what the district ran: its month has no orders.
    zone = api.jurisdiction.loop.calendar.timezone
    [month] = statistics.town_months(api.engine.connect(), api.clock().astimezone(zone).date().replace(day=1), zone,
                                     [CHENGXIANG])
    assert month.dispatched == 0


def test_onboarding_hands_the_towns_open_orders_over_once_with_a_trace(api, tmp_path: Path):
    district = api.jurisdiction.district_centre.code
    open_order = api.open_order(summary="小区路灯坏了好几天，晚上一片漆黑", address="萧山区城厢街道")
    finished = api.open_order(summary="小区门口垃圾堆了好几天", address="萧山区城厢街道")
    assert api.client("district-dispatcher").post(f"/api/v1/orders/{finished}/withdraw", json={}).status_code == 200
    bundle = tmp_path / "xiaoshan"
    shutil.copytree(BUNDLE, bundle)
    towns = bundle / "towns.csv"
    towns.write_text(towns.read_text(encoding="utf-8").replace(f"{CHENGXIANG},城厢街道,street,{CHENGXIANG},"
                                                               "城厢街道综合指挥中心,no,", f"{CHENGXIANG},城厢街道,"
                                                               f"street,{CHENGXIANG},城厢街道综合指挥中心,yes,"),
                     encoding="utf-8")
    onboarded = load_bundle(bundle)
    assert onboarded.town_by_code[CHENGXIANG].onboarded

    api.clock.advance(api.clock.offset.__class__(minutes=5))
    assert hand_over_onboarded(onboarded, api.engine.begin, Topics(), api.clock()) == [open_order]
    assert hand_over_onboarded(onboarded, api.engine.begin, Topics(), api.clock()) == []  # once
    order = api.client("district-supervisor").get(f"/api/v1/orders/{open_order}").json()
    assert (order["centre_code"], order["district_run"]) == (CHENGXIANG, False)
    assert charged(api, open_order) == ([district, CHENGXIANG], {CHENGXIANG})
    with api.engine.connect() as conn:
        [fact] = conn.execute(select(order_events).where(order_events.c.order_id == open_order,
                                                         order_events.c.kind == "handed_over")).all()
    assert fact.details == {"from_centre": district, "to_centre": CHENGXIANG}
    assert any(e["kind_name"] == "镇街接入，移交本镇街办理" for e in order["timeline"])
    assert api.client("district-op").get(f"/api/v1/orders/{open_order}").json()["allowed_actions"] == []
