"""The cockpit (驾驶舱) in Chromium: the district supervisor drills district → town → village → orders and
sees the API's numbers; a town leader starts in its own town and cannot reach another town's villages."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from schemas.topics import Topics
from tests.integration.console_support import artifacts, shot, sign_in
from workers.demo_history import History

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def played(module_api):
    History(module_api.engine, module_api.jurisdiction, Topics()).play(module_api.clock(), months=1, per_day=8)
    return module_api


@pytest.fixture(scope="module")
def shots() -> Path:
    return artifacts("cockpit")


def test_the_district_supervisor_drills_down_to_the_orders(played, page: Page, shots: Path):
    with closing(played.client("district-supervisor")) as client:
        district = client.get("/api/v1/cockpit/district").json()
        town = max((u for u in district["units"] if u["code"] != district["code"]), key=lambda u: u["dispatched"])
        town_view = client.get(f"/api/v1/cockpit/towns/{town['code']}").json()
        centre = next(u for u in district["units"] if u["code"] == district["code"])  # 区中心代管's dispatches
        centre_orders = client.get("/api/v1/orders", params={"figure": "dispatched", "town": centre["code"]}).json()
        town_orders = client.get("/api/v1/orders", params={"figure": "dispatched", "town": town["code"]}).json()
    village = max((u for u in town_view["units"] if u["code"] != "unplaced"), key=lambda u: u["dispatched"])
    assert village["dispatched"] > 0
    page.goto(played.url + "/")
    sign_in(page, "district-supervisor")
    page.get_by_test_id("tab-cockpit").click()
    expect(page.get_by_test_id("cockpit-title")).to_contain_text("驾驶舱")
    expect(page.get_by_test_id("total-dispatched")).to_contain_text(str(district["total"]["dispatched"]))
    row = page.locator(f"[data-testid=cockpit-unit][data-code='{town['code']}']")
    expect(row).to_contain_text(str(town["dispatched"]))
    for t in played.jurisdiction.towns:  # a town not onboarded is marked: its dispatches are the district's
        marked = page.locator(f"[data-testid=cockpit-unit][data-code='{t.code}'] th")
        (expect(marked).not_to_contain_text if t.onboarded else expect(marked).to_contain_text)("区中心代管")
    assert 0 < centre_orders["total"] <= centre["dispatched"]  # an order dispatched twice is listed once
    assert {o["town_code"] for o in centre_orders["items"]} <= {t.code for t in played.jurisdiction.towns
                                                               if not t.onboarded}
    centre_row = page.locator(f"[data-testid=cockpit-unit][data-code='{centre['code']}']")
    expect(centre_row.locator("th a")).to_have_count(0)  # no town view below it
    centre_row.get_by_test_id("drill-dispatched").click()
    expect(page.get_by_test_id("cockpit-orders")).to_contain_text(f"共 {centre_orders['total']} 件")
    row.get_by_test_id("drill-dispatched").click()  # a town's row drills into that town's orders only
    expect(page.get_by_test_id("cockpit-orders")).to_contain_text(f"共 {town_orders['total']} 件")
    expect(page.get_by_test_id("cockpit-rank").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("cockpit-map")).to_be_hidden()  # Xiaoshan's bundle has no boundaries
    shot(page, shots, "01-district")

    row.locator("th a").click()
    expect(page.get_by_test_id("cockpit-title")).to_contain_text(town["name"])
    expect(page.get_by_test_id("total-dispatched")).to_contain_text(str(town_view["total"]["dispatched"]))
    expect(page.get_by_test_id("cockpit-hotspots")).to_be_visible()
    shot(page, shots, "02-town")

    page.locator(f"[data-testid=cockpit-unit][data-code='{village['code']}'] th a").click()
    expect(page.get_by_test_id("cockpit-title")).to_contain_text(village["name"])
    expect(page.get_by_test_id("repeat-callers")).to_contain_text("重复报警人")
    page.get_by_test_id("total-dispatched").get_by_test_id("drill-dispatched").click()
    items = page.get_by_test_id("cockpit-order-list").locator("li")
    expect(items.first).to_be_visible()
    assert items.count() <= village["dispatched"]
    shot(page, shots, "03-village-orders")
    items.first.locator("a").click()
    expect(page.get_by_test_id("tab-queue")).to_have_attribute("aria-current", "")


def test_a_town_leader_sees_its_own_town(played, page: Page, shots: Path):
    leader = played.users["xintang-leader"]
    page.goto(played.url + "/")
    sign_in(page, "xintang-leader")
    page.get_by_test_id("tab-cockpit").click()
    expect(page.get_by_test_id("cockpit-title")).to_contain_text(leader.unit_name)
    other = next(t.code for t in played.jurisdiction.towns if t.code != leader.unit_code)
    theirs = next(v.code for v in played.jurisdiction.villages if v.town_code == other)
    status = page.evaluate(f"fetch('/api/v1/cockpit/towns/{other}/villages/{theirs}').then(r => r.status)")
    assert status == 404
    shot(page, shots, "04-town-leader")
