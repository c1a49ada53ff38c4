"""The console fits the screens towns and the district use: a 1280×720 desktop and a tablet in
landscape (1024×768) and portrait (768×1024), each view signed in as the role that uses it.

On every view and screen: the page never scrolls sideways, every visible button (and link styled as
one) lies inside the viewport and inside every box that clips it, and no button's label, badge or
column header wraps onto a second line or is cut. Screenshots of each are kept under var/test-artifacts/layout/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from router.sweep import Sweep
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import artifacts, shot, sign_in

pytestmark = pytest.mark.integration

SCREENS = {"1280x720": (1280, 720), "1024x768": (1024, 768), "768x1024": (768, 1024)}

# What is wrong with the layout on screen, as sentences; [] when it fits. A button counts when it is
# rendered (checkVisibility); "clipped" means an ancestor with overflow other than visible cuts it
# horizontally (a table scrolled sideways inside its box would hide it until the user scrolls). Labels
# that must read as one word (buttons, tabs, state and grade badges, alert kinds, column headers) keep one line.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
  }
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    // Boxes that overlap vertically are one line (a badge beside a label sits a little higher).
    let count = 0, bottom = -Infinity;
    for (const r of [...range.getClientRects()].filter((r) => r.width > 0).sort((a, b) => a.top - b.top)) {
      if (r.top >= bottom - 1) count += 1;
      bottom = Math.max(bottom, r.bottom);
    }
    return count;
  };
  for (const button of document.querySelectorAll("button, .button")) {
    if (!button.checkVisibility() || !button.textContent.trim()) continue;
    const name = `「${button.textContent.trim()}」${button.dataset.testid ? ` (${button.dataset.testid})` : ""}`;
    const box = button.getBoundingClientRect();
    if (box.left < 0 || box.right > width + 0.5) {
      problems.push(`${name} is outside the viewport: ${Math.round(box.left)}–${Math.round(box.right)} of ${width}`);
    }
    for (let up = button.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === "visible") continue;
      const clip = up.getBoundingClientRect();
      if (box.left < clip.left - 0.5 || box.right > clip.left + up.clientWidth + 0.5) {
        problems.push(`${name} is clipped by ${up.tagName.toLowerCase()}.${up.className}`);
        break;
      }
    }
    if (button.scrollWidth > button.clientWidth + 1) problems.push(`${name} is cut: its label is wider than it`);
  }
  for (const label of document.querySelectorAll("button, .button, .state, .grade, .alert, thead th, nav a")) {
    if (label.checkVisibility() && lines(label) > 1) {
      problems.push(`「${label.textContent.trim()}」 (${label.className || label.tagName.toLowerCase()}) wraps onto ${lines(label)} lines`);
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def shots() -> Path:
    return artifacts("layout")


@pytest.fixture(scope="module")
def orders(module_api: ApiUnderTest) -> dict[str, str]:
    """新塘's orders in the states whose detail offers the most actions, and alerts for the board."""
    api = module_api
    orders = {
        "dispatched": api.open_order(),
        "acknowledged": api.open_order(summary="厂里拖欠工资三个月，工人在厂门口讨薪，情绪激动，要求尽快协调解决",
                                       address="浙江省杭州市萧山区新塘街道傅楼村12号"),
        "reported": api.open_order(summary="小区路灯坏了好几天，晚上一片漆黑", address="萧山区新塘街道新塘村"),
        "return_requested": api.open_order(summary="邻居在楼道堆放杂物，双方发生口角", address="萧山区新塘街道霞江村"),
        "late": api.open_order(summary="楼下饭店油烟太大，熏得没法开窗", address="萧山区新塘街道东瑞社区"),
    }
    town = api.client("xintang-op")
    for state in ("acknowledged", "reported"):
        assert town.post(f"/api/v1/orders/{orders[state]}/acknowledge", json={}).status_code == 200
    assert town.post(f"/api/v1/orders/{orders['reported']}/report", json={"text": "已修复"}).status_code == 200
    assert town.post(f"/api/v1/orders/{orders['return_requested']}/return",
                     json={"reason_code": "R01", "text": "不在本街道"}).status_code == 200
    town.close()
    api.queue_review("RVL1", "小区门口垃圾堆了好几天没人清理，楼上还天天装修到深夜，多次反映没人管")  # 区中心待办
    api.clock.advance(timedelta(hours=2))  # 签收 deadlines pass: red countdowns and alerts on the board
    assert Sweep(api.engine, Topics()).tick(api.clock()).fired > 0
    return orders


def fits(page: Page, shots: Path, view: str) -> list[str]:
    """Check the current view on every screen, keeping a screenshot of each; the problems found."""
    problems = []
    for screen, (width, height) in SCREENS.items():
        page.set_viewport_size({"width": width, "height": height})
        shot(page, shots, f"{screen}-{view}")
        problems += [f"{screen} {view}: {p}" for p in dict.fromkeys(page.evaluate(LAYOUT_PROBLEMS))]
    return problems


BOARD, INBOX = "board", "inbox"
# (account, view, what it opens: one of `orders` by its state, the board, the inbox, or nothing (the queue),
# a test id the view shows once it is drawn)
VIEWS = [
    ("xintang-op", "queue", None, "ack-button"),
    ("xintang-op", "detail-dispatched", "dispatched", "detail-ack"),
    ("xintang-op", "detail-acknowledged", "acknowledged", "report-submit"),
    ("xintang-leader", "queue", None, "order-row"),
    ("xintang-leader", "board", BOARD, "ranking-row"),
    ("district-dispatcher", "queue", None, "filter-town"),
    ("district-dispatcher", "detail-return-requested", "return_requested", "return-approve"),
    ("district-dispatcher", "board", BOARD, "alert-row"),
    ("district-dispatcher", "inbox", INBOX, "review-open"),
    ("district-supervisor", "detail-reported", "reported", "review-approve"),
]


@pytest.mark.parametrize(("user", "view", "opens", "ready"), VIEWS, ids=[f"{u}-{v}" for u, v, *_ in VIEWS])
def test_every_view_fits_every_screen(module_api: ApiUnderTest, orders: dict[str, str], page: Page, shots: Path,
                                      user: str, view: str, opens: str | None, ready: str) -> None:
    page.goto(module_api.url + "/console/")
    sign_in(page, user)
    expect(page.get_by_test_id("order-row").first).to_be_visible()
    if opens in (BOARD, INBOX):
        page.get_by_test_id(f"tab-{opens}").click()
    elif opens:
        page.locator(f'tr[data-order-id="{orders[opens]}"]').get_by_test_id("order-open").click()
        expect(page.get_by_test_id("order-detail").locator("#detail-title")).to_contain_text(orders[opens])
    expect(page.get_by_test_id(ready).first).to_be_visible()
    problems = fits(page, shots, f"{user}-{view}")
    assert not problems, "\n".join(problems)
