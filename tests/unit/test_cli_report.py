"""`fengqiao report monthly`: the 红黄黑榜 as a table or CSV from a SQLite database."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from typer.testing import CliRunner

from router.store.database import make_engine
from router.store.migrate import upgrade
from tests.unit.test_statistics import play
from workers.cli import app

runner = CliRunner()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@pytest.fixture(scope="module")
def database(tmp_path_factory, xiaoshan) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'loop.db'}"
    engine = make_engine(url)
    upgrade(engine)
    play(engine, xiaoshan)
    engine.dispose()
    return url


def test_the_table_lists_every_town_with_rates_score_grade_and_trend(database: str):
    result = runner.invoke(app, ["report", "monthly", "--month", "2026-11", "--database", database])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("萧山区 2026年11月 红黄黑榜")
    assert lines[1].split() == ["排名", "镇街", "派单", "签收及时率", "反馈及时率", "办结率", "退单率", "重办率", "得分", "榜单"]
    assert len(lines) == 2 + 27
    xintang = next(line for line in lines if "新塘街道" in line)
    # too few orders for the shipped min_orders: not graded; 同比 in brackets
    assert xintang.split() == ["—", "新塘街道", "4", "75.0%", "(-25.0)", "66.7%", "(-33.3)", "66.7%", "(-33.3)",
                               "25.0%", "(+25.0)", "33.3%", "(+33.3)", "69.17", "(-30.83)", "不评"]
    beigan = next(line for line in lines if "北干街道" in line)
    assert beigan.split() == ["—", "北干街道", "1", "100.0%", "0.0%", "0.0%", "0.0%", "—", "30.00", "不评"]


def test_columns_line_up_in_terminal_columns_where_chinese_is_double_width(database: str):
    result = runner.invoke(app, ["report", "monthly", "--month", "2026-11", "--database", database])
    rows = result.output.splitlines()[1:]
    grade_columns = {_width(row[:row.rindex(row.split()[-1])]) for row in rows}
    assert len(grade_columns) == 1


def test_csv_has_counts_rates_and_changes(database: str):
    result = runner.invoke(app, ["report", "monthly", "--month", "2026-11", "--database", database,
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 27
    xintang = next(r for r in rows if r["镇街代码"] == "330109004")
    assert (xintang["月份"], xintang["镇街"], xintang["派单"], xintang["及时签收"], xintang["重办"]) == (
        "2026-11", "新塘街道", "4", "3", "1")
    assert (xintang["签收及时率%"], xintang["得分"], xintang["排名"], xintang["榜单"]) == ("75.00", "69.17", "", "不评")
    assert (xintang["同比签收及时率"], xintang["同比得分"]) == ("-25.00", "-30.83")
    assert (xintang["应签收"], xintang["应反馈"], xintang["应办结"]) == ("4", "3", "3")
    chengxiang = next(r for r in rows if r["镇街代码"] == "330109001")
    assert (chengxiang["派单"], chengxiang["得分"], chengxiang["同比得分"]) == ("0", "", "")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        pytest.param(["--month", "2026-13"], "YYYY-MM", id="bad-month"),
        pytest.param(["--month", "November"], "YYYY-MM", id="not-a-month"),
        pytest.param(["--month", "0001-01"], "outside 2000-2100", id="month-before-fengqiao"),
        pytest.param(["--month", "2026-11", "--format", "xlsx"], "neither table nor csv", id="bad-format"),
    ],
)
def test_bad_options_are_refused(database: str, arguments: list[str], says: str):
    result = runner.invoke(app, ["report", "monthly", "--database", database, *arguments])
    assert result.exit_code == 2
    assert says in result.output
