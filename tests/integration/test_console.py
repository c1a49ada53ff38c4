"""The web console (指挥中心工作台) in real headless Chromium against the real API on PostgreSQL.

One story, as people use it: a 新塘 operator watches the queue, a new order arrives without a
reload, one click 签收, the 反馈 form; a district supervisor reads the 红黄黑榜, the alerts and
the figures; a 北干 operator never sees 新塘's order. Screenshots of each step are kept under
var/test-artifacts/console/.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect

from router.sweep import Sweep
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import artifacts, shot, sign_in, sign_out

pytestmark = pytest.mark.integration

GRADES = {"red": "红榜", "yellow": "黄榜", "black": "黑榜", "ungraded": "不评"}


@pytest.fixture(scope="module")
def shots() -> Path:
    return artifacts("console")


def test_operator_queue_live_updates_commands_and_supervisor_board(api: ApiUnderTest, page: Page,
                                                                    shots: Path) -> None:
    xintang = api.town_of("xintang-op")
    page.goto(api.url + "/")
    expect(page).to_have_title("枫桥 · 指挥中心工作台")

    # 登录: a wrong password shows the API's Chinese message and signs nobody in.
    sign_in(page, "xintang-op", "wrong-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    shot(page, shots, "01-login-failed")
    sign_in(page, "xintang-op")
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
    expect(page.locator("#order-empty")).to_be_visible()
    expect(page.get_by_test_id("tab-board")).to_be_hidden()  # operators have no supervisor board
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "open")
    shot(page, shots, "02-operator-queue-empty")

    # The countdown's colours (format.js countdown): minutes left on a 30-minute 签收 and a 24-hour 反馈.
    levels = page.evaluate("""async () => {
        const { countdown } = await import("/console/format.js");
        const at = (minutesLeft, windowMinutes, stage_name) => countdown({ opened_at: new Date(
            Date.now() - (windowMinutes - minutesLeft) * 60000).toISOString(), clock: { stage_name,
            due: new Date(Date.now() + minutesLeft * 60000).toISOString() } }).level;
        return [at(20, 30, "签收"), at(10, 30, "签收"), at(-1, 30, "签收"),
                at(300, 1440, "反馈"), at(280, 1440, "反馈"), at(-5, 1440, "反馈")];
    }""")
    assert levels == ["ok", "warn", "over", "ok", "warn", "over"]
    # A span people asked for (延期 48 小时) reads in words, not as a countdown.
    assert page.evaluate("""async () => {
        const { span } = await import("/console/format.js");
        return [span(172800), span(108000), span(1800)];
    }""") == ["2天", "1天6小时", "30分钟"]

    # A new order reaches the open page over SSE: no reload (the marker set now survives).
    page.evaluate("window.__sameDocument = 'kept'")
    order_id = api.open_order()
    row = page.locator(f'tr[data-order-id="{order_id}"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("order-state")).to_have_text("待签收")
    expect(page.get_by_test_id("new-orders-notice")).to_contain_text("新工单 1 条")
    expect(row.get_by_test_id("countdown")).to_have_attribute("data-level", "ok")
    expect(row.get_by_test_id("countdown")).to_contain_text("签收剩余")
    assert page.evaluate("window.__sameDocument") == "kept"
    shot(page, shots, "03-new-order-arrived-live")

    # 签收 with one click; a double click still acknowledges once (the button waits for the answer).
    row.get_by_test_id("ack-button").dblclick()
    expect(row.get_by_test_id("order-state")).to_have_text("已签收/处置中")
    expect(row.get_by_test_id("countdown")).to_contain_text("反馈剩余")
    row.get_by_test_id("order-open").click()
    detail = page.get_by_test_id("order-detail")
    expect(detail.get_by_test_id("detail-state")).to_have_text("已签收/处置中")
    expect(detail.locator('.timeline li[data-kind="acknowledge"]')).to_have_count(1)
    expect(detail.locator('.timeline li[data-kind="acknowledge"]')).to_contain_text("新塘街道值班员")  # a name, not a login
    expect(detail.locator('.timeline li[data-kind="rejected"]')).to_have_count(0)
    shot(page, shots, "04-acknowledged-detail")

    # 反馈 through the form; the detail and the list both say 已反馈/待审核.
    detail.get_by_test_id("report-submit").click()
    expect(detail.locator("#report-form .form-error")).to_have_text("请填写处置情况")
    detail.get_by_test_id("report-text").fill("已到场协调，施工方承诺晚上十点后停工，居民表示认可")
    detail.get_by_test_id("report-submit").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("已反馈/待审核")
    expect(page.get_by_test_id("flash")).to_have_text("反馈已提交，待审核")  # sent for review, not done
    expect(row.get_by_test_id("order-state")).to_have_text("已反馈/待审核")
    expect(detail.locator('.timeline li[data-kind="report"]')).to_contain_text("施工方承诺晚上十点后停工")
    expect(detail.locator("#report-form")).to_have_count(0)  # no longer an allowed action
    assert page.evaluate("window.__sameDocument") == "kept"
    shot(page, shots, "05-reported")
    client = api.client("xintang-op")
    assert client.get(f"/api/v1/orders/{order_id}").json()["state"] == "reported"
    client.close()

    # CSV export is the same list as a download.
    csv = page.request.get(api.url + page.get_by_test_id("orders-csv").get_attribute("href"))
    assert csv.ok and "工单编号" in csv.text() and order_id in csv.text()

    # Four more orders left unacknowledged past their 签收 deadline: 新塘 has the five dispatches the
    # 红黄黑榜 needs to grade a town (min_orders), and the supervisor gets alerts.
    late = [api.open_order(summary=summary, address=address) for summary, address in [
        ("厂里拖欠工资三个月，工人在厂门口讨薪", "萧山区新塘街道"),
        ("小区路灯坏了好几天，晚上一片漆黑", "萧山区新塘街道新塘村"),
        ("邻居在楼道堆放杂物，双方发生口角", "萧山区新塘街道霞江村"),
        ("楼下饭店油烟太大，熏得没法开窗", "萧山区新塘街道东瑞社区"),
    ]]
    assert len({order_id, *late}) == 5, "each report opens its own order (no merging)"
    expect(page.locator(f'tr[data-order-id="{late[-1]}"]')).to_be_visible()
    api.clock.advance(timedelta(hours=2))
    assert Sweep(api.engine, Topics()).tick(api.clock()).fired > 0

    # The district supervisor: 红黄黑榜 with 新塘's line and counts, alerts, figures by town.
    sign_out(page)
    sign_in(page, "district-supervisor")
    expect(page.get_by_test_id("me-name")).to_contain_text("区督办员")
    page.get_by_test_id("tab-board").click()
    line = page.locator(f'[data-testid="ranking-row"][data-town="{xintang}"]')
    expect(line).to_contain_text("新塘街道")
    expect(line.locator('[data-count="dispatched"]')).to_have_text("5")
    expect(line.locator('[data-count="acknowledged"]')).to_have_text("1")
    expect(line.locator('[data-count="reported"]')).to_have_text("1")
    expect(line.locator('[data-rate="acknowledge_on_time"]')).to_contain_text("%")
    grade = line.get_attribute("data-grade")
    assert grade in ("red", "yellow", "black"), f"新塘 has enough orders to be graded, got {grade}"
    expect(line.get_by_test_id("ranking-grade")).to_have_text(GRADES[grade])
    expect(line.locator("td").first).to_have_text("1")  # the only town graded, so first
    expect(page.get_by_test_id("ranking-row").first).to_have_attribute("data-town", xintang)
    expect(page.get_by_test_id("ranking-row")).to_have_count(len(api.jurisdiction.towns))
    alert = page.get_by_test_id("alert-row").filter(has_text=late[0])
    expect(alert.first).to_be_visible()
    expect(page.get_by_test_id("alerts-table")).to_contain_text("签收超时")
    expect(page.get_by_test_id("alerts-more")).to_be_hidden()  # fewer than a page of 200: nothing more to load
    figures = page.locator(f'[data-testid="figure-row"][data-town="{xintang}"]')
    expect(figures.locator('[data-figure="orders"]')).to_have_text("5")
    expect(figures.locator('[data-figure="awaiting_ack"]')).to_have_text("4")
    expect(page.get_by_test_id("disputes-table")).to_contain_text("暂无重点矛盾纠纷")
    ranking_csv = page.request.get(api.url + page.get_by_test_id("ranking-csv").get_attribute("href"))
    assert ranking_csv.ok and "新塘街道" in ranking_csv.text()
    shot(page, shots, "06-supervisor-board")

    # Every alert links to its order: the queue opens with that order's detail.
    alert.first.get_by_test_id("order-link").click()
    expect(page.get_by_test_id("order-detail")).to_contain_text(late[0])
    expect(page.locator("#queue-view")).to_be_visible()

    # The district queue shows every town, with a town filter.
    page.get_by_test_id("tab-queue").click()
    expect(page.locator(f'tr[data-order-id="{order_id}"]')).to_be_visible()
    expect(page.get_by_test_id("filter-town")).to_be_visible()
    # Countdowns follow the engine's clock (moved 2 h on), not the PC's: 签收 is 30 min, so red.
    late_clock = page.locator(f'tr[data-order-id="{late[0]}"] [data-testid="countdown"]')
    expect(late_clock).to_have_attribute("data-level", "over")
    expect(late_clock).to_contain_text("签收已超时")
    # 签收 is offered as the order's allowed_actions say: a supervisor may not sign for a town.
    expect(page.locator(f'tr[data-order-id="{late[0]}"]').get_by_test_id("ack-button")).to_have_count(0)
    shot(page, shots, "07-district-queue")

    # Another town's operator does not see the order, not even by searching its id.
    sign_out(page)
    sign_in(page, "beigan-op")
    expect(page.get_by_test_id("me-unit")).to_have_text("北干街道")
    expect(page.locator("#order-empty")).to_be_visible()
    page.get_by_test_id("filter-state").select_option("*")
    page.get_by_test_id("filter-q").fill(order_id)
    expect(page.get_by_test_id("order-total")).to_have_text("共 0 条")
    expect(page.get_by_test_id("order-row")).to_have_count(0)
    shot(page, shots, "08-other-town-sees-nothing")


def test_return_reassignment_review_callback_and_api_errors(api: ApiUnderTest, page: Page, shots: Path) -> None:
    beigan = api.town_of("beigan-op")
    reported = api.open_order()
    returned = api.open_order(summary="厂里拖欠工资三个月，工人在厂门口讨薪", address="萧山区新塘街道")
    late = api.open_order(summary="小区路灯坏了好几天，晚上一片漆黑", address="萧山区新塘街道新塘村")
    town = api.client("xintang-op")
    for order_id in (reported, late):
        assert town.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    assert town.post(f"/api/v1/orders/{reported}/report", json={"text": "已调解"}).status_code == 200
    town.close()

    # 退单 with a reason from the bundle's list.
    page.goto(api.url + "/console/")
    sign_in(page, "xintang-op")
    page.locator(f'tr[data-order-id="{returned}"]').get_by_test_id("order-open").click()
    detail = page.get_by_test_id("order-detail")
    detail.get_by_test_id("return-submit").click()
    expect(detail.locator("#return-form .form-error")).to_have_text("请选择退单原因")
    detail.get_by_test_id("return-reason").select_option(label="非本镇街辖区")
    detail.locator("#return-text").fill("企业实际位于北干街道")
    detail.get_by_test_id("return-submit").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("退单待审")
    expect(detail.locator('.timeline li[data-kind="request_return"]')).to_contain_text("原因：非本镇街辖区")

    # A day later the session has expired (12 h): the next click leads back to the login page.
    api.clock.advance(timedelta(hours=25))
    page.locator(f'tr[data-order-id="{late}"]').get_by_test_id("order-open").click()
    expect(page.get_by_test_id("login-error")).to_have_text("登录已过期，请重新登录")
    sign_in(page, "xintang-op")

    # The API's own refusal reaches the operator in Chinese: too late to ask for more time.
    page.locator(f'tr[data-order-id="{late}"]').get_by_test_id("order-open").click()
    expect(detail.locator("#detail-title")).to_contain_text(late)
    detail.locator("#extension-text").fill("需协调供电公司")
    detail.get_by_test_id("extension-submit").click()
    expect(page.get_by_test_id("flash")).to_have_text("已超过反馈时限，不能再申请延期")
    expect(detail.locator("#extension-form .form-error")).to_have_text("已超过反馈时限，不能再申请延期")
    expect(detail.get_by_test_id("detail-state")).to_have_text("已签收/处置中")
    shot(page, shots, "11-operator-api-error")
    sign_out(page)

    # The dispatcher approves the return and reassigns (改派) it to 北干.
    sign_in(page, "district-dispatcher")
    page.get_by_test_id("filter-state").select_option("return_requested")
    rows = page.get_by_test_id("order-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_test_id("order-open").click()
    detail.get_by_test_id("return-approve").click()
    expect(detail.locator("#return-decision-form .form-error")).to_have_text("请选择改派的镇街")
    detail.locator("#return-target").select_option(beigan)
    detail.get_by_test_id("return-approve").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("待签收")
    expect(detail.locator(".facts")).to_contain_text("北干街道")
    expect(detail.get_by_test_id("callers")).to_contain_text("13912345678")  # dispatchers call back
    shot(page, shots, "12-dispatcher-reassigned")
    sign_out(page)

    # The supervisor reviews the report (审核通过 → 办结) and records the callback; callers are masked.
    sign_in(page, "district-supervisor")
    page.get_by_test_id("filter-state").select_option("reported")
    page.locator(f'tr[data-order-id="{reported}"]').get_by_test_id("order-open").click()
    expect(detail.get_by_test_id("callers")).to_contain_text("王** ****5678")
    expect(detail.get_by_test_id("callers")).not_to_contain_text("13912345678")
    detail.locator("#review-text").fill("处置到位")
    # 审核不通过 lost to the network twice keeps one key (a retry of the same command); 审核通过
    # afterwards is another command with its own key, applied, not answered as a duplicate.
    reviews: list[tuple[bool, str]] = []

    def review(route: Route) -> None:
        approved = route.request.post_data_json["approved"]
        reviews.append((approved, route.request.headers["idempotency-key"]))
        if approved:
            route.continue_()
        else:
            route.abort()

    page.route("**/api/v1/orders/*/review", review)
    for _ in range(2):
        with page.expect_event("requestfailed"):
            detail.get_by_test_id("review-reject").click()
        expect(detail.locator("#review-form .form-error")).to_have_text("无法连接服务器，请检查网络后重试")
    expect(detail.get_by_test_id("review-approve")).to_be_enabled()
    detail.get_by_test_id("review-approve").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("办结")
    expect(page.get_by_test_id("flash")).to_have_text("审核通过成功")
    page.unroute("**/api/v1/orders/*/review")
    assert [approved for approved, _ in reviews] == [False, False, True]
    assert reviews[0][1] == reviews[1][1] != reviews[2][1]
    detail.get_by_test_id("callback-yes").click()
    expect(detail.locator('.timeline li[data-kind="record_callback"]')).to_contain_text("群众满意")
    expect(detail.get_by_test_id("detail-state")).to_have_text("办结")
    shot(page, shots, "13-supervisor-review-callback")
    sign_out(page)

    # 北干 now holds the reassigned order, waiting for its 签收.
    sign_in(page, "beigan-op")
    row = page.locator(f'tr[data-order-id="{returned}"]')
    expect(row.get_by_test_id("order-state")).to_have_text("待签收")
    expect(row.get_by_test_id("ack-button")).to_be_visible()
    shot(page, shots, "14-beigan-receives-reassigned")

    # The same queue on a phone-sized screen (the tables scroll sideways, nothing overlaps).
    page.set_viewport_size({"width": 390, "height": 844})
    expect(row).to_be_visible()
    shot(page, shots, "15-beigan-on-a-phone")


def test_a_photo_chosen_in_the_report_form_is_uploaded_and_shown_in_the_timeline(api: ApiUnderTest, page: Page,
                                                                                 shots: Path) -> None:
    order_id = api.open_order()
    town = api.client("xintang-op")
    assert town.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    town.close()
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (40, 120, 200)).save(photo, "JPEG")

    page.goto(api.url + "/console/")
    sign_in(page, "xintang-op")
    page.locator(f'tr[data-order-id="{order_id}"]').get_by_test_id("order-open").click()
    detail = page.get_by_test_id("order-detail")
    picked = detail.get_by_test_id("report-photos-list").get_by_test_id("photo-thumb")
    detail.get_by_test_id("report-photos").set_input_files(
        [{"name": "现场照片.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}])
    expect(picked).to_have_count(1)
    expect(picked).to_have_js_property("naturalWidth", 320)  # the thumbnail, loaded with the session cookie
    # A file named .jpg that is something else is refused by its content, in Chinese; the photo stays.
    detail.get_by_test_id("report-photos").set_input_files(
        [{"name": "假照片.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.7\n1 0 obj\n"}])
    expect(detail.locator("#report-form .form-error")).to_have_text("照片上传失败：只能上传 JPEG 或 PNG 格式的照片")
    expect(picked).to_have_count(1)

    detail.get_by_test_id("report-text").fill("已到场处置，现场照片见附件")
    detail.get_by_test_id("report-submit").click()
    expect(detail.get_by_test_id("detail-state")).to_have_text("已反馈/待审核")
    thumb = detail.locator('.timeline li[data-kind="report"]').get_by_test_id("photo-thumb")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_js_property("naturalWidth", 320)
    shot(page, shots, "06-report-with-photo")
    with page.expect_popup() as opened:
        detail.locator('.timeline li[data-kind="report"]').get_by_test_id("photo-link").click()
    full = opened.value
    full.wait_for_load_state()
    assert f"/api/v1/orders/{order_id}/photos/PH" in full.url
    assert full.evaluate("document.images[0].naturalWidth") == 800
    full.close()


def test_after_a_reset_the_console_asks_for_a_new_password_before_anything_else(api: ApiUnderTest, page: Page,
                                                                                 shots: Path) -> None:
    api.services.identity.reset_password("xintang-op", "temporary-pass-4821")
    page.goto(api.url + "/")
    sign_in(page, "xintang-op", "temporary-pass-4821")
    expect(page.get_by_test_id("password-form")).to_be_visible()
    expect(page.locator("#app-view")).to_be_hidden()

    def change(old: str, new: str, again: str | None = None) -> None:
        page.locator("#password-old").fill(old)
        page.locator("#password-new").fill(new)
        page.locator("#password-again").fill(new if again is None else again)
        page.locator("#password-submit").click()

    change("temporary-pass-4821", "my-own-choice-7731", "my-own-choice-7732")
    expect(page.get_by_test_id("password-error")).to_have_text("两次输入的新密码不一致")
    change("temporary-pass-4821", "short-one")
    expect(page.get_by_test_id("password-error")).to_contain_text("密码至少12位")
    shot(page, shots, "20-password-change-refused")
    change("temporary-pass-4821", "my-own-choice-7731")
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
    expect(page.get_by_test_id("password-form")).to_be_hidden()
    sign_out(page)
    sign_in(page, "xintang-op", "my-own-choice-7731")
    expect(page.get_by_test_id("me-unit")).to_have_text("新塘街道")
