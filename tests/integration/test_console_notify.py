"""提醒 in real headless Chromium against the real API on PostgreSQL: a desktop notification and a tone
for a new order, a 预警 and a 超时 that arrive while the console is open — none for what was there
when it loaded — and the banner while the live stream is lost. `window.Notification` and the
oscillators are observed through an init script; the browser context holds the permission."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from router.sweep import Sweep
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import OBSERVE, console_page, expect_count, sign_in

pytestmark = pytest.mark.integration



@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    yield from console_page(browser, OBSERVE, permissions=["notifications"])


@pytest.fixture
def undecided_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    yield from console_page(browser, OBSERVE + "window.__permission = 'default';")


def notes(page: Page) -> list[dict]:
    return page.evaluate("window.__notes")


def test_new_orders_and_sla_alerts_notify_with_a_tone_and_what_was_there_does_not(api: ApiUnderTest, page: Page):
    before = api.open_order(summary="小区路灯坏了一个多星期")
    page.goto(api.url + "/")
    sign_in(page, "xintang-op")
    expect(page.locator(f'tr[data-order-id="{before}"]')).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("notify-enable")).to_be_hidden()  # granted already: nothing to ask
    expect(page.get_by_test_id("connection-lost")).to_be_hidden()

    # 声音提醒 on: a sample tone now, and remembered.
    page.get_by_test_id("sound-toggle").check()
    assert page.evaluate("localStorage.getItem('fengqiao.sound')") == "on"
    expect_count(page, "tones", 1)

    order_id = api.open_order(caller={"name": "李四", "phone": "13700001111"})
    expect_count(page, "notes", 1)
    [note] = notes(page)
    assert note["title"] == "新工单" and note["body"] == f"新塘街道 · 噪音扰民 · {order_id}"
    assert "李四" not in str(note) and "13700001111" not in str(note)
    assert before not in str(notes(page))
    expect_count(page, "tones", 2)

    # Past the 30-minute 签收 deadline: 预警 at 50 % and 80 % and the breach, for both orders.
    api.clock.advance(timedelta(minutes=31))
    assert Sweep(api.engine, Topics()).tick(api.clock()).fired > 0
    expect_count(page, "notes", 7)
    titles = sorted(n["title"] for n in notes(page))
    assert titles == sorted(["新工单", *["签收预警50%", "签收预警80%", "签收超时"] * 2])

    # Reloaded: the settings stay, nothing already seen notifies again.
    page.reload()
    expect(page.get_by_test_id("sound-toggle")).to_be_checked()
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open")
    third = api.open_order(summary="小区门口占道经营")
    expect_count(page, "notes", 1)
    assert [n["body"].rsplit(" · ", 1)[1] for n in notes(page)] == [third]


def test_permission_is_asked_once_from_the_button(api: ApiUnderTest, undecided_page: Page):
    page = undecided_page
    page.goto(api.url + "/")
    sign_in(page, "xintang-op")
    ask = page.get_by_test_id("notify-enable")
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
    expect(ask).to_be_visible()
    expect(ask).to_have_text("开启桌面提醒")
    assert page.evaluate("window.__asked") == 0  # never without a click
    page.evaluate("window.__permission = 'denied'")
    ask.click()
    expect(ask).to_be_hidden()
    assert page.evaluate("window.__asked") == 1
    page.reload()
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
    expect(page.get_by_test_id("notify-enable")).to_be_hidden()
    assert page.evaluate("window.__asked") == 0  # a new page: still never asked again


def test_a_lost_stream_shows_the_banner_until_it_reconnects(api: ApiUnderTest, page: Page):
    page.route("**/api/v1/stream", lambda route: route.fulfill(status=503, body=""))
    page.goto(api.url + "/")
    sign_in(page, "xintang-op")
    banner = page.get_by_test_id("connection-lost")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("与服务器的连接已断开，正在重连…")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "closed")
    page.unroute("**/api/v1/stream")
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open", timeout=15_000)
    expect(banner).to_be_hidden()
