"""区中心待办 in real headless Chromium: the district dispatcher sees what waits on the board and the tab,
places an incident in a town from the dialog, marks another police, and re-drives a dead letter; the
supervisor reads the same lists without the desk's buttons; a town operator has no such tab.
Screenshots under var/test-artifacts/inbox/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from router.intake import FeedRecord, Intake
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import artifacts, shot, sign_in, sign_out

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shots() -> Path:
    return artifacts("inbox")


def test_the_dispatcher_works_the_inbox_and_the_supervisor_reads_it(api: ApiUnderTest, page: Page, shots: Path):
    placed = api.queue_review("RVB1", "楼上邻居\u202e装修噪音太大，晚上还在施工")  # a bidi override in the text
    police = api.queue_review("RVB2", "小区门口垃圾堆了好几天没人清理")
    Intake(api.router, api.engine.begin, Topics(), 65_536).handle([FeedRecord(b"{broken", None, "incidents.v1", 0, 3)],
                                                                  api.clock())
    page.goto(api.url + "/")
    sign_in(page, "district-dispatcher")
    expect(page.get_by_test_id("inbox-count")).to_have_text("3")
    page.get_by_test_id("tab-board").click()
    expect(page.get_by_test_id("board-inbox-text")).to_contain_text("待定位 2 件")
    expect(page.get_by_test_id("board-inbox-text")).to_contain_text("死信 1 条")

    page.get_by_test_id("board-inbox").get_by_role("link").click()
    rows = page.get_by_test_id("review-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("review-total")).to_have_text("2 件")
    shot(page, shots, "01-dispatcher-inbox")

    # 定位派单: the dialog offers every town; placing opens the order in 瓜沥镇.
    page.locator(f'[data-review="{placed}"]').get_by_test_id("review-open").click()
    dialog = page.get_by_test_id("review-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("review-dialog-summary")).to_have_text("楼上邻居装修噪音太大，晚上还在施工")  # stripped
    page.get_by_test_id("review-town").select_option(label="瓜沥镇")
    page.get_by_test_id("review-note").fill("回拨确认在瓜沥")
    shot(page, shots, "02-place-dialog")
    page.get_by_test_id("review-place").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("flash")).to_contain_text("已派单：工单 WO")
    expect(rows).to_have_count(1)

    # 转警务 asks to confirm first.
    page.once("dialog", lambda confirm: confirm.accept())
    page.locator(f'[data-review="{police}"]').get_by_test_id("review-open").click()
    page.get_by_test_id("review-police").click()
    expect(page.locator("#review-rows")).to_contain_text("没有待定位的警情")
    page.get_by_test_id("review-state").select_option("placed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("已派单：瓜沥镇")
    expect(rows.first).to_contain_text("district-dispatcher")

    # 重投 the dead letter: it waits to be read again.
    expect(page.get_by_test_id("dead-letter-row")).to_contain_text("非JSON")
    page.get_by_test_id("dead-letter-redrive").click()
    expect(page.get_by_test_id("dead-letter-row")).to_contain_text("已重投")
    expect(page.get_by_test_id("inbox-count")).to_be_hidden()
    shot(page, shots, "03-decided")

    # The order the dispatcher placed opens from the list.
    rows.first.get_by_role("link").click()
    expect(page.locator("#queue-view")).to_be_visible()
    sign_out(page)

    # The supervisor reads, without the desk's buttons; a town operator has no 待办.
    sign_in(page, "district-supervisor")
    page.get_by_test_id("tab-inbox").click()
    page.get_by_test_id("review-state").select_option("police")
    expect(page.get_by_test_id("review-row")).to_have_count(1)
    expect(page.get_by_test_id("dead-letter-redrive")).to_have_count(0)
    shot(page, shots, "04-supervisor-inbox")
    sign_out(page)
    sign_in(page, "xintang-op")
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
    expect(page.get_by_test_id("tab-inbox")).to_be_hidden()
