"""The board's 月度通报 buttons in headless Chromium: a district supervisor opens the month's report and its
PDF; a town leader, who reads the board too, has no such buttons. Screenshots under var/test-artifacts/monthly-console/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import artifacts, shot, sign_in, sign_out

pytestmark = pytest.mark.integration


def test_the_district_prints_the_months_report_from_the_board(api: ApiUnderTest, page: Page) -> None:
    shots: Path = artifacts("monthly-console")
    page.goto(api.url + "/")
    sign_in(page, "district-supervisor")
    page.get_by_test_id("tab-board").click()
    expect(page.get_by_test_id("ranking-row")).to_have_count(len(api.jurisdiction.towns))
    month = page.get_by_test_id("ranking-month").input_value()
    expect(page.get_by_test_id("report-html")).to_be_visible()
    href = page.get_by_test_id("report-html").get_attribute("href")
    assert href == f"/api/v1/reports/monthly/{month}"
    report = page.request.get(api.url + href)
    assert report.ok and "红黄黑榜" in report.text() and "平安指数" in report.text()
    pdf = page.request.get(api.url + page.get_by_test_id("report-pdf").get_attribute("href"), timeout=120_000)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    shot(page, shots, "01-board-report-buttons")

    sign_out(page)
    sign_in(page, "xintang-leader")
    page.get_by_test_id("tab-board").click()
    expect(page.get_by_test_id("ranking-row")).to_have_count(1)
    expect(page.get_by_test_id("report-html")).to_be_hidden()
    expect(page.get_by_test_id("report-pdf")).to_be_hidden()
