"""`fengqiao orders ...` against the real API: readable tables, commands, the API's own refusals."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from workers.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(api):
    runner = CliRunner()

    def run(user: str, *args: str) -> tuple[int, str]:
        token = api.services.identity.issue_token(user, "cli test", api.clock())
        result = runner.invoke(app, ["orders", *args, "--api", api.url, "--token", token])
        return result.exit_code, result.output

    return run


def test_an_operator_lists_acknowledges_and_reports_from_the_terminal(api, cli):
    order_id = api.open_order(summary="小区路灯不亮，居民夜间出行不便")
    code, out = cli("xintang-op", "list")
    assert code == 0, out
    header, row = out.splitlines()[:2]
    assert header.split() == ["工单编号", "镇街", "事项", "状态", "当前时限", "截止", "简要情况"]
    assert row.split()[:2] == [order_id, "新塘街道"] and "待签收" in row and " 签收 " in row  # the clock running now
    assert "共 1 条" in out

    assert cli("xintang-op", "acknowledge", order_id) == (0, f"已受理: {order_id} 现为「已签收/处置中」\n")
    code, out = cli("xintang-op", "report", order_id, "--text", "已联系供电所修复", "--attachment", "oss://p/1.jpg")
    assert code == 0 and "已反馈/待审核" in out, out

    code, out = cli("xintang-op", "show", order_id)
    assert code == 0, out
    assert re.search(r"签收\s+acknowledged\s+xintang-op", out) and "已联系供电所修复" in out
    assert "报警人 王小明 13912345678" in out  # operators call citizens back


def test_refusals_come_from_the_api_with_its_chinese_message(api, cli):
    order_id = api.open_order()
    code, out = cli("beigan-op", "acknowledge", order_id)
    assert code == 1 and "错误 404" in out and "不存在或无权查看" in out
    code, out = cli("xintang-op", "report", order_id, "--text", "未签收先反馈")
    assert code == 1 and "错误 409" in out and "工单当前状态为「待签收」，不能执行「反馈」" in out
    code, out = cli("district-supervisor", "show", order_id)
    assert code == 0 and "报警人 王** ****5678" in out  # supervisors see no caller
