"""The district's monthly work over HTTP on PostgreSQL: a high-incidence area put under targeted work,
the key-dispute list issued, assigned, carried over and resolved, the safety index with its
components, and the 月度通报 printed to PDF (kept under var/test-artifacts/monthly/)."""

from __future__ import annotations

import io
import unicodedata
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from typer.testing import CliRunner

from router.store.tables import access_log
from tests.integration.support import REPO, moved_clock
from workers.cli import app

pytestmark = pytest.mark.integration

XINTANG = "330109004"
ADDRESS = "萧山区新塘街道傅楼村12号"
MONTH = "2026-11"  # TEST_START is 2026-11-25
ARTIFACTS = REPO / "var" / "test-artifacts" / "monthly"


def _ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def _four_reports(api) -> str:
    """Four calls about the same neighbour's noise at one village: one order (并单), a key dispute, and
    4 incidents where none were before (P(X ≥ 4 | 0.5) ≈ 0.0018 < 0.01): a high-incidence area."""
    orders = set()
    for _ in range(4):
        orders.add(api.open_order(summary="楼上邻居深夜装修，噪音扰民", address=ADDRESS))
        api.clock.advance(timedelta(minutes=5))
    [order_id] = orders
    return order_id


def test_a_hotspot_is_listed_with_its_orders_and_put_under_targeted_work_by_the_district(api):
    order_id = _four_reports(api)
    supervisor = api.client("district-supervisor")
    [area] = _ok(supervisor.get("/api/v1/hotspots"))["areas"]
    assert (area["matter_type"], area["town_code"], area["count"], area["baseline"]) == ("噪音扰民", XINTANG, 4, 0)
    assert area["place"].startswith("village:") and area["place_name"] == "傅楼村委会"
    assert area["orders"] == [order_id] and len(area["incidents"]) == 4 and area["campaign"] is None
    assert _ok(api.client("beigan-op").get("/api/v1/hotspots"))["areas"] == []  # a town sees its own only
    assert len(_ok(api.client("xintang-op").get("/api/v1/hotspots"))["areas"]) == 1

    body = {"place": area["place"], "matter_type": "噪音扰民", "responsible_unit": "新塘街道综治办",
            "review_on": "2026-12-20", "note": "夜间施工专项整治"}
    assert api.client("xintang-leader").put("/api/v1/hotspots/campaign", json=body).status_code == 403
    assert supervisor.put("/api/v1/hotspots/campaign",
                          json={**body, "place": "village:330109004999"}).status_code == 404
    api.clock.advance(timedelta(days=3))
    supervisor = api.client("district-supervisor")  # days on: a fresh session
    marked = _ok(supervisor.put("/api/v1/hotspots/campaign", json=body))["campaign"]
    assert (marked["responsible_unit"], marked["review_on"], marked["started_by"]) == (
        "新塘街道综治办", "2026-12-20", "district-supervisor")
    # Begun three days (and 20 minutes) after the calls: two days on, the two days before it hold none of
    # them; four days on, the four days before hold all four, and the four since none.
    api.clock.advance(timedelta(days=2))
    later = _ok(api.client("district-supervisor").get("/api/v1/hotspots"))["areas"][0]["campaign"]
    assert (later["days"], later["before"], later["after"], later["fell"]) == (2.0, 0, 0, False)
    api.clock.advance(timedelta(days=2))
    week = _ok(api.client("district-supervisor").get("/api/v1/hotspots"))["areas"][0]["campaign"]
    assert (week["days"], week["before"], week["after"], week["fell"]) == (4.0, 4, 0, True)
    with api.engine.connect() as conn:
        actions = [(r.action, r.status) for r in conn.execute(
            select(access_log.c.action, access_log.c.status).where(access_log.c.action == "hotspots.campaign"))]
    assert actions == [("hotspots.campaign", 403), ("hotspots.campaign", 404), ("hotspots.campaign", 200)]


def test_the_months_key_dispute_list_is_issued_assigned_carried_over_and_resolved(api):
    order_id = _four_reports(api)
    supervisor = api.client("district-supervisor")
    assert _ok(supervisor.get(f"/api/v1/dispute-lists/{MONTH}"))["issued"] is False
    assert api.client("xintang-leader").post(f"/api/v1/dispute-lists/{MONTH}").status_code == 403
    assert _ok(supervisor.post(f"/api/v1/dispute-lists/{MONTH}"))["added"] == 1
    assert _ok(supervisor.post(f"/api/v1/dispute-lists/{MONTH}"))["added"] == 0  # issued once
    assignment = {"responsible_leader": "张副镇长", "responsible_unit": "新塘街道综治办", "responsible_person": "李明",
                  "resolution_due": "2026-11-30T09:00:00+08:00"}
    assert api.client("xintang-op").put(f"/api/v1/dispute-lists/{MONTH}/{order_id}",
                                        json=assignment).status_code == 403
    assert supervisor.put(f"/api/v1/dispute-lists/{MONTH}/NOSUCHORDER", json=assignment).status_code == 404
    assigned = _ok(supervisor.put(f"/api/v1/dispute-lists/{MONTH}/{order_id}", json=assignment))
    assert (assigned["responsible_leader"], assigned["responsible_person"], assigned["resolved"]) == (
        "张副镇长", "李明", False)
    # The board's key-dispute table shows the assignment, no longer 待指定.
    [dispute] = _ok(supervisor.get("/api/v1/disputes"))
    assert dispute["responsible_leader"] == "张副镇长"
    # December's list, issued while it is still open, carries it over with its assignment.
    [carried] = _ok(supervisor.get("/api/v1/dispute-lists/2026-12"))["disputes"] if _ok(
        supervisor.post("/api/v1/dispute-lists/2026-12"))["added"] == 1 else []
    assert (carried["carried_over"], carried["responsible_person"]) == (True, "李明")

    assert _ok(api.client("beigan-op").get(f"/api/v1/dispute-lists/{MONTH}"))["disputes"] == []
    op, dispatcher = api.client("xintang-op"), api.client("district-dispatcher")
    for client, path, body in ((op, "acknowledge", {}), (op, "report", {"text": "已调解，双方达成协议"}),
                               (dispatcher, "review", {"approved": True})):
        _ok(client.post(f"/api/v1/orders/{order_id}/{path}", json=body))
    listed = _ok(api.client("xintang-leader").get(f"/api/v1/dispute-lists/{MONTH}"))
    assert [d["resolved"] for d in listed["disputes"]] == [True]
    assert [(f["town_name"], f["issued"], f["resolved"], f["rate"]) for f in listed["figures"]] == [
        ("新塘街道", 1, 1, 1.0), ("合计", 1, 1, 1.0)]
    assert "13912345678" not in str(listed)


def test_the_safety_index_shows_each_component(api):
    _four_reports(api)
    view = _ok(api.client("xintang-leader").get(f"/api/v1/safety-index?month={MONTH}"))
    [town] = view["towns"]  # a town sees its own line only
    assert town["unit_code"] == XINTANG
    village = next(v for v in view["villages"] if v["unit_name"] == "傅楼村委会")
    assert (village["facts"]["incidents"], village["facts"]["repeats"], village["facts"]["disputes"],
            village["facts"]["opened"]) == (4, 3, 1, 1)
    # One village: repeats 3 of a ceiling of 5 (× weight 15) and 1 dispute of 2 (× 15); nothing closed yet.
    assert village["losses"]["repeats"] == 9.0 and village["losses"]["disputes"] == 7.5
    assert village["losses"]["unresolved"] == 15.0
    assert village["index"] == round(100 - sum(village["losses"].values()), 1)
    assert town["facts"]["incidents"] == 4 and town["index"] > village["index"]  # a town's ceilings are wider
    assert api.client("xintang-leader").get("/api/v1/safety-index?month=2026-13").status_code == 422


def test_the_monthly_report_prints_to_pdf_with_the_ranking(api):
    order_id = _four_reports(api)
    supervisor = api.client("district-supervisor")
    _ok(supervisor.post(f"/api/v1/dispute-lists/{MONTH}"))
    assert api.client("xintang-leader").get(f"/api/v1/reports/monthly/{MONTH}").status_code == 403
    page = supervisor.get(f"/api/v1/reports/monthly/{MONTH}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "红黄黑榜" in page.text and order_id in page.text and "<svg" in page.text
    assert "13912345678" not in page.text and "王小明" not in page.text
    response = supervisor.get(f"/api/v1/reports/monthly/{MONTH}?format=pdf", timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"monthly-report-{MONTH}.pdf").write_bytes(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    assert 1 <= len(reader.pages) <= 6
    text = _pdf_text(reader)
    towns = [t.name for t in api.jurisdiction.towns]
    assert "红黄黑榜" in text and "平安指数" in text and "高发区域" in text
    assert all(name in text for name in towns), [n for n in towns if n not in text]
    # The ranking table has one row per town, each ending in its grade (no town has 5 orders: all 不评).
    ranking = text.split("红黄黑榜", 1)[1].split("重点矛盾纠纷清单", 1)[0]
    rows = [line for line in ranking.splitlines() if line.rstrip().endswith(("红榜", "黄榜", "黑榜", "不评"))]
    assert len(rows) == len(towns) and all(row.rstrip().endswith("不评") for row in rows)


def _pdf_text(reader: PdfReader) -> str:
    """The PDF's text as people read it: the CJK font maps some ideographs to their radicals' code points
    (⼭ for 山, ⻩ for 黄); NFKC folds the Kangxi radicals back, and the one simplified radical used is mapped."""
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))
    return text.replace("\u2ee9", "黄")


def test_the_cli_writes_the_months_report_as_html_and_pdf(api, tmp_path):
    order_id = _four_reports(api)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", "monthly", "--month", MONTH, "--database",
                                      api.engine.url.render_as_string(hide_password=False), "--out", str(out)],
                                env={**moved_clock(), "FENGQIAO_CLOCK_ORIGIN": api.clock().isoformat()})
    assert result.exit_code == 0, result.output
    page, pdf = out / f"monthly-report-{MONTH}.html", out / f"monthly-report-{MONTH}.pdf"
    assert result.output.split() == [str(page), str(pdf)]
    assert "高发区域" in page.read_text(encoding="utf-8") and "傅楼村委会" in page.read_text(encoding="utf-8")
    assert order_id not in page.read_text(encoding="utf-8")  # no list issued for the month yet
    text = _pdf_text(PdfReader(pdf))
    assert "平安指数" in text and "傅楼村委会" in text  # the area's row, printed
