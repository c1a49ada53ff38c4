"""Monthly figures from the store: orders played through intake, commands and the SLA sweep with a
fake clock on SQLite (the same scenario runs on PostgreSQL in tests/integration)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from router.domain.jurisdiction import Jurisdiction
from router.domain.ranking import Grade, Indicator, TownMonth
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.statistics import MonthOutOfRange, local_month, month_bounds, monthly_ranking, town_months
from tests.unit.loop_driver import CST, XINTANG, Loop

BEIGAN, CHENGXIANG = "330109002", "330109001"
NOVEMBER = date(2026, 11, 1)

# 新塘's November: 4 dispatches; O2 acknowledged late, O3 returned (then 北干's), O4 reported late,
# O2 rejected once (重办) and closed on its second report, O1 closed first time. Settled: O3 left
# 新塘 before its 反馈 or 办结 was due, so it counts for neither rate; O4's 办结 deadline passed unclosed.
XINTANG_NOVEMBER = TownMonth(XINTANG, dispatched=4, acknowledged=4, acknowledged_on_time=3, reported=3,
                             reported_on_time=2, closed=2, returned=1, reopened=1,
                             acknowledge_settled=4, report_settled=3, resolve_settled=3)
# 北干 acknowledged O3 in time and let its 反馈 and 办结 deadlines pass.
BEIGAN_NOVEMBER = TownMonth(BEIGAN, dispatched=1, acknowledged=1, acknowledged_on_time=1,
                            acknowledge_settled=1, report_settled=1, resolve_settled=1)
XINTANG_A_YEAR_EARLIER = TownMonth(XINTANG, dispatched=1, acknowledged=1, acknowledged_on_time=1, reported=1,
                                   reported_on_time=1, closed=1,
                                   acknowledge_settled=1, report_settled=1, resolve_settled=1)


def play(engine: Engine, jurisdiction: Jurisdiction) -> None:
    """A year-earlier month, a November with every kind of outcome, and dispatches just outside it."""
    loop = Loop(engine, jurisdiction)

    old = loop.at(datetime(2025, 11, 3, 9, tzinfo=CST)).open("Y1")
    loop.later(minutes=5).do(old, "acknowledge")
    loop.later(hours=1).do(old, "report")
    loop.later(minutes=5).district(old, "approve_report")

    loop.at(datetime(2026, 10, 31, 23, 50, tzinfo=CST)).open("OCT")  # October, however late

    loop.at(datetime(2026, 11, 2, 9, tzinfo=CST))  # a Monday; 签收 due in 30 min, 反馈 in 24 h
    o1, o2, o3, o4 = (loop.open(name) for name in ("N1", "N2", "N3", "N4"))
    loop.later(minutes=10)
    for order in (o1, o3, o4):
        loop.do(order, "acknowledge")
    loop.later(minutes=25).do(o2, "acknowledge")  # after the acknowledge breach fired
    loop.later(hours=1)
    loop.do(o1, "report")
    loop.do(o2, "report")
    loop.do(o3, "request_return", reason_code="R01")
    loop.later(minutes=5)
    loop.district(o1, "approve_report")
    loop.district(o2, "reject_report")
    loop.district(o3, "approve_return", target_town=BEIGAN)
    loop.later(minutes=5)
    loop.do(o2, "report")
    loop.do(o3, "acknowledge", unit=BEIGAN)
    loop.later(minutes=5).district(o2, "approve_report")
    loop.at(datetime(2026, 11, 3, 10, tzinfo=CST)).do(o4, "report")  # after the report breach fired

    # 00:10 on 1 December in Hangzhou is still 30 November in UTC: December's all the same.
    loop.at(datetime(2026, 12, 1, 0, 10, tzinfo=CST)).open("DEC")


@pytest.fixture(scope="module")
def played(tmp_path_factory, xiaoshan) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('statistics') / 'loop.db'}")
    upgrade(engine)
    play(engine, xiaoshan)
    yield engine
    engine.dispose()


def test_each_towns_month_counts_its_dispatches_and_what_became_of_them(played):
    with played.connect() as conn:
        months = town_months(conn, NOVEMBER, CST, [XINTANG, BEIGAN, CHENGXIANG])
    assert months == [XINTANG_NOVEMBER, BEIGAN_NOVEMBER, TownMonth(CHENGXIANG)]


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        pytest.param(date(2025, 11, 1), XINTANG_A_YEAR_EARLIER, id="a-year-earlier"),
        pytest.param(date(2026, 10, 1), TownMonth(XINTANG, dispatched=1, acknowledge_settled=1),
                     id="october-by-local-time"),  # its 签收 deadline passed unacknowledged
        pytest.param(date(2026, 12, 1), TownMonth(XINTANG, dispatched=1),
                     id="december-by-local-time"),  # not due yet: counts for no rate
        pytest.param(date(2026, 9, 1), TownMonth(XINTANG), id="a-month-without-orders"),
    ],
)
def test_months_are_local_months(played, month: date, expected: TownMonth):
    with played.connect() as conn:
        assert town_months(conn, month, CST, [XINTANG]) == [expected]


def test_monthly_ranking_lists_every_town_with_its_trend(played, xiaoshan):
    graded_from_one = dataclasses.replace(xiaoshan, ranking=dataclasses.replace(xiaoshan.ranking, min_orders=1))
    with played.connect() as conn:
        report = monthly_ranking(conn, graded_from_one, date(2026, 11, 20))
    assert report.month == NOVEMBER
    assert len(report.lines) == len(xiaoshan.towns)
    # 新塘: 20 × .75 + 25 × 2/3 + 30 × 2/3 + 10 × (1 − .25) + 15 × (1 − 1/3) = 69.17 of 100 (O3 left before
    # its 反馈 and 办结 were due, so those two rates are over 3 orders, not 4).
    # 北干: acknowledged its one order on time, returned nothing, reported nothing yet: 30.
    assert [(line.town_code, line.score, line.rank, line.grade) for line in report.lines[:3]] == [
        (XINTANG, 69.17, 1, Grade.BLACK), (BEIGAN, 30.0, 2, Grade.BLACK), (CHENGXIANG, None, None, Grade.UNGRADED)]
    trend = report.trends[XINTANG]
    assert trend.rates[Indicator.ACKNOWLEDGE_ON_TIME] == pytest.approx(0.75 - 1)
    assert trend.rates[Indicator.REOPENS] == pytest.approx(1 / 3)
    assert trend.score == pytest.approx(69.17 - 100)
    assert report.trends[BEIGAN].score is None  # nothing a year earlier


def test_the_shipped_minimum_leaves_small_towns_ungraded(played, xiaoshan):
    with played.connect() as conn:
        report = monthly_ranking(conn, xiaoshan, NOVEMBER)
    assert {line.grade for line in report.lines} == {Grade.UNGRADED}
    assert next(line for line in report.lines if line.town_code == XINTANG).score == 69.17


def test_month_bounds_are_local_midnights():
    assert month_bounds(date(2026, 12, 15), CST) == (datetime(2026, 12, 1, tzinfo=CST),
                                                     datetime(2027, 1, 1, tzinfo=CST))


@pytest.mark.parametrize(("now", "month"), [
    (datetime(2026, 11, 30, 16, 0, tzinfo=ZoneInfo("UTC")), date(2026, 12, 1)),  # 00:00 on 1 December in Beijing
    (datetime(2026, 11, 30, 15, 59, tzinfo=ZoneInfo("UTC")), date(2026, 11, 1)),
    (datetime(2026, 12, 31, 23, 59, tzinfo=CST), date(2026, 12, 1)),
])
def test_local_month_is_the_month_in_the_bundles_zone(now: datetime, month: date):
    assert local_month(now, CST) == month


@pytest.mark.parametrize("month", [date(1, 1, 1), date(1999, 12, 1), date(2101, 1, 1)])
def test_a_month_outside_fengqiaos_era_is_refused(played, xiaoshan, month: date):
    with played.connect() as conn, pytest.raises(MonthOutOfRange, match="outside 2000-2100"):
        monthly_ranking(conn, xiaoshan, month)
