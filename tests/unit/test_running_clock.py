"""One truth about clocks: the clock an order races now is 签收 until it is acknowledged, then 反馈,
and none while a request waits for a decision, while parked, or once finished — and every reader
(仅超时, the 'due' sort, the board's 已超时, the countdown) reads that one definition."""

from __future__ import annotations

from datetime import datetime

import pytest

from router.domain.lifecycle import State
from router.domain.sla import Stage, running_stage
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.views import OrderFilter, order_page, running_deadline, town_figures
from tests.unit.loop_driver import CST, DISTRICT, XINTANG, Loop

RUNNING = {
    State.DISPATCHED: Stage.ACKNOWLEDGE,
    State.ACKNOWLEDGED: Stage.REPORT,
    State.REOPENED: Stage.REPORT,
    State.RETURN_REQUESTED: None,
    State.EXTENSION_REQUESTED: None,
    State.REPORTED: None,
    State.PARKED: None,
    State.CLOSED: None,
    State.MERGED: None,
    State.WITHDRAWN: None,
}


def test_every_state_has_its_running_clock():
    assert set(RUNNING) == set(State)
    assert {state: running_stage(state) for state in State} == RUNNING


@pytest.fixture
def loop(tmp_path, xiaoshan):
    engine = make_engine(f"sqlite:///{tmp_path / 'clocks.db'}")
    upgrade(engine)
    yield Loop(engine, xiaoshan), engine
    engine.dispose()


def test_lists_sorts_and_board_read_the_clock_running_now(loop):
    driver, engine = loop
    driver.at(datetime(2026, 11, 2, 9, tzinfo=CST))  # a Monday; 签收 due in 30 min, 反馈 in 24 h
    waiting, working, extending, reported, parked = (driver.open(n) for n in ("W", "K", "E", "R", "P"))
    driver.later(minutes=10)
    for order in (working, extending, reported, parked):
        driver.do(order, "acknowledge")
    driver.do(extending, "request_extension", extension_hours=48, text="等待配件")
    driver.do(reported, "report", text="已处理")
    driver.do(parked, "park", role="district_supervisor", unit=DISTRICT, text="等待上级协调")

    def overdue(now: datetime) -> set[str]:
        with engine.connect() as conn:
            rows, _ = order_page(conn, OrderFilter(overdue=True), now, None, 0)
            [figures] = town_figures(conn, XINTANG, now, now)
        assert figures["overdue"] == len(rows)
        return {r["order_id"] for r in rows}

    # 09:45: only the order still waiting for 签收 is late; its 反馈 (due tomorrow) is not what it races.
    assert overdue(datetime(2026, 11, 2, 9, 45, tzinfo=CST)) == {waiting}
    # The next day: 反馈 is late for the order at work too; the requests, the report under review and the
    # parked order race no clock, whatever their report deadline says.
    assert overdue(datetime(2026, 11, 3, 10, tzinfo=CST)) == {waiting, working}

    with engine.connect() as conn:
        rows, _ = order_page(conn, OrderFilter(sort="due"), datetime(2026, 11, 3, 10, tzinfo=CST), None, 0)
    clocks = [(r["order_id"], running_deadline(r)) for r in rows]
    assert [o for o, _ in clocks[:2]] == [waiting, working]  # 签收 09:30 before 反馈 the next morning
    assert clocks[0][1][0] is Stage.ACKNOWLEDGE and clocks[1][1][0] is Stage.REPORT
    assert {o for o, clock in clocks if clock is None} == {extending, reported, parked}
