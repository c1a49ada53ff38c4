"""A day's work, end to end, in real headless Chromium at 1280×720 (the acceptance walk of issue 10).

The district dispatcher places an incident no town was found for (待定位) in 新塘; 新塘's operator,
whose console is open, gets a desktop notification, acknowledges it, and reports with a photo of the
site; the report is approved (审核 is the district supervisor's in this lifecycle: docs/lifecycle.md),
and the supervisor's board shows 新塘's figures move. Another case, in 城厢 (not onboarded), is worked
by the district centre's own operator. Each step's screenshot is kept under var/test-artifacts/day/.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import OBSERVE, artifacts, console_page, expect_count, shot, sign_in

pytestmark = pytest.mark.integration

XINTANG = "330109004"
SCREEN = {"width": 1280, "height": 720}


@pytest.fixture
def operator(browser: Browser) -> Iterator[Page]:
    """新塘's operator's console: desktop notifications allowed, and recorded."""
    yield from console_page(browser, OBSERVE, permissions=["notifications"], viewport=SCREEN)


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """The district's console, for the dispatcher, the supervisor and the district operator in turn."""
    yield from console_page(browser, viewport=SCREEN)


def figure(page: Page, town: str, name: str):
    return page.locator(f'[data-testid="figure-row"][data-town="{town}"] [data-figure="{name}"]')


def test_a_day_from_the_review_queue_to_the_board(api: ApiUnderTest, operator: Page, desk: Page):
    shots = artifacts("day")
    review_id = api.queue_review("DAY1", "楼上邻居装修噪音太大，晚上十一点还在施工")
    operator.goto(api.url + "/")
    sign_in(operator, "xintang-op")
    expect(operator.get_by_test_id("live-status")).to_have_attribute("data-state", "open")
    expect(operator.locator("#order-empty")).to_be_visible()

    # 1. The dispatcher places the incident in 新塘 from 区中心待办.
    desk.goto(api.url + "/")
    sign_in(desk, "district-dispatcher")
    desk.get_by_test_id("tab-inbox").click()
    desk.locator(f'[data-review="{review_id}"]').get_by_test_id("review-open").click()
    desk.get_by_test_id("review-town").select_option(XINTANG)
    desk.get_by_test_id("review-note").fill("回拨报警人，确认在新塘街道")
    shot(desk, shots, "01-dispatcher-places")
    desk.get_by_test_id("review-place").click()
    expect(desk.get_by_test_id("flash")).to_contain_text("已派单")
    [placed] = api.client("district-dispatcher").get("/api/v1/reviews", params={"state": "placed"}).json()
    order_id = placed["order_id"]

    # 2. 新塘's console notifies, and the operator acknowledges from the queue.
    expect_count(operator, "notes", 1)
    assert order_id in str(operator.evaluate("window.__notes"))
    row = operator.locator(f'tr[data-order-id="{order_id}"]')
    expect(row).to_be_visible()
    shot(operator, shots, "02-operator-notified")
    row.get_by_test_id("ack-button").click()
    expect(row).to_contain_text("已签收")

    # 3. ... and reports with a photo of the site.
    row.get_by_test_id("order-open").click()
    detail = operator.get_by_test_id("order-detail")
    photo = io.BytesIO()
    Image.new("RGB", (1024, 768), (90, 140, 60)).save(photo, "JPEG")
    detail.get_by_test_id("report-photos").set_input_files(
        [{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}])
    expect(detail.get_by_test_id("report-photos-list").get_by_test_id("photo-thumb")).to_have_count(1)
    detail.get_by_test_id("report-text").fill("已上门协调，施工方承诺晚上十点后停工，报警人认可")
    detail.get_by_test_id("report-submit").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("已反馈/待审核")
    expect(detail.locator('.timeline li[data-kind="report"]').get_by_test_id("photo-thumb")).to_have_count(1)
    expect(detail.locator('.timeline li[data-kind="placed"]')).to_contain_text("区调度员")
    shot(operator, shots, "03-operator-reported-with-photo")
    desk.get_by_test_id("logout").click()

    # 4. The supervisor approves, and 新塘's figures on the board move.
    sign_in(desk, "district-supervisor")
    desk.get_by_test_id("tab-board").click()
    expect(figure(desk, XINTANG, "closed")).to_have_text("0")
    desk.goto(f"{api.url}/console/#/order/{order_id}")
    desk.get_by_test_id("review-approve").click()
    expect(desk.get_by_test_id("order-detail").get_by_test_id("detail-state")).to_have_text("办结")
    shot(desk, shots, "04-supervisor-approved")
    desk.get_by_test_id("tab-board").click()
    expect(figure(desk, XINTANG, "closed")).to_have_text("1")
    expect(figure(desk, XINTANG, "open")).to_have_text("0")
    shot(desk, shots, "05-board-figures-moved")
    desk.get_by_test_id("logout").click()

    # 5. 城厢 is not onboarded: the district centre's own operator works its order.
    chengxiang = api.open_order(summary="小区路灯坏了好几天，晚上一片漆黑", address="萧山区城厢街道")
    xintang = api.open_order(summary="小区门口垃圾堆了好几天没人清理", address="萧山区新塘街道")
    sign_in(desk, "district-op")
    row = desk.locator(f'tr[data-order-id="{chengxiang}"]')
    row.get_by_test_id("ack-button").click()
    expect(row).to_contain_text("已签收")
    row.get_by_test_id("order-open").click()
    detail = desk.get_by_test_id("order-detail")
    detail.get_by_test_id("report-text").fill("已联系城管维修，路灯恢复照明")
    detail.get_by_test_id("report-submit").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("已反馈/待审核")
    shot(desk, shots, "06-district-operator-reported")
    # Its queue starts with the orders the district runs; 新塘's, shown too when asked, have no button.
    xintang_row = desk.locator(f'tr[data-order-id="{xintang}"]')
    expect(xintang_row).to_have_count(0)
    desk.get_by_test_id("filter-district").uncheck()
    expect(xintang_row).to_be_visible()
    expect(xintang_row.get_by_test_id("ack-button")).to_have_count(0)
