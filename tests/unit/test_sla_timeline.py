"""SLA timelines with a fake clock: warnings, breach and the ladder over weekends, holidays,
a 调休 Saturday and a reassignment (time charged to each unit in turn)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from router.commands import CommandHandler
from router.domain.lifecycle import Order, State
from router.domain.sla import (
    ClockStart,
    EscalationStep,
    Limit,
    SlaPolicy,
    Stage,
    Unit,
    clocks_on_open,
    effect_kind,
    parse_effect_kind,
    plan,
)
from router.intake import FeedRecord, Intake
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import holdings, order_events, sla_timers, work_orders
from router.sweep import Sweep
from schemas.command import WorkOrderCommandV1
from schemas.topics import Topics

CST = ZoneInfo("Asia/Shanghai")
LADDER = (EscalationStep("remind", timedelta(0), "centre"), EscalationStep("supervise", timedelta(hours=2), "town_leader"),
          EscalationStep("notify", timedelta(days=1), "district"))


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


def policy(report: Limit, clock_start: ClockStart = ClockStart.DISPATCH) -> SlaPolicy:
    return SlaPolicy(Limit(30, Unit.MINUTES), report, Limit(5, Unit.WORKING_DAYS), clock_start, (0.5, 0.8), LADDER)


ORDER = Order("WO1", State.DISPATCHED, "330109004", "330109004", None)


@pytest.mark.parametrize(
    ("start", "days", "due", "half"),
    [
        pytest.param(cst(2025, 11, 14, 16), 1, cst(2025, 11, 17, 16), cst(2025, 11, 17, 4), id="over-a-weekend"),
        pytest.param(cst(2025, 9, 30, 10), 2, cst(2025, 10, 10, 10), cst(2025, 10, 9, 10), id="over-national-day"),
        pytest.param(cst(2025, 10, 10, 10), 1, cst(2025, 10, 11, 10), cst(2025, 10, 10, 22), id="into-a-tiaoxiu-saturday"),
        pytest.param(cst(2025, 10, 4, 9), 1, cst(2025, 10, 10, 0), cst(2025, 10, 9, 12), id="dispatched-on-a-holiday"),
    ],
)
def test_working_day_clocks_skip_days_off(xiaoshan, start: datetime, days: int, due: datetime, half: datetime):
    calendar = xiaoshan.loop.calendar
    timers = {t.kind: t.due_at for t in plan(ORDER, Stage.REPORT, start, Limit(days, Unit.WORKING_DAYS).due(
        start, calendar), policy(Limit(days, Unit.WORKING_DAYS)), calendar)}
    assert timers["breach"] == due
    assert timers["warning_50"] == half
    assert timers["escalation.remind"] == due
    assert timers["escalation.supervise"] == due + timedelta(hours=2)
    assert timers["escalation.notify"] == due + timedelta(days=1)


def test_the_acknowledge_clock_is_wall_clock_even_on_a_holiday(xiaoshan):
    start = cst(2025, 10, 1, 23, 50)  # 国庆, near midnight: centres work 24 hours
    clocks = clocks_on_open(ORDER, start, policy(Limit(1, Unit.WORKING_DAYS)), xiaoshan.loop.calendar)
    ack = {t.kind: t.due_at for t in clocks.replace[Stage.ACKNOWLEDGE]}
    assert ack["breach"] == cst(2025, 10, 2, 0, 20)
    assert ack["warning_50"] == start + timedelta(minutes=15)
    assert clocks.report_due == cst(2025, 10, 10, 0), "1 working day from a holiday ends with 10-09"


def test_a_clock_that_starts_at_acknowledgement_has_no_report_timers_before_it(xiaoshan):
    clocks = clocks_on_open(ORDER, cst(2025, 11, 14, 9), policy(Limit(4, Unit.HOURS), ClockStart.ACKNOWLEDGE),
                            xiaoshan.loop.calendar)
    assert set(clocks.replace) == {Stage.ACKNOWLEDGE, Stage.REPORT, Stage.RESOLVE}
    assert clocks.replace[Stage.REPORT] == [] and clocks.replace[Stage.RESOLVE] == []
    assert clocks.report_due is None


class Clock:
    """The fake clock the shell would otherwise read: tests move it instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def loop(tmp_path, router, xiaoshan):
    engine = make_engine(f"sqlite:///{tmp_path / 'loop.db'}")
    upgrade(engine)
    topics = Topics()
    yield engine, Intake(router, engine.begin, topics, 65_536), CommandHandler(xiaoshan, engine.begin, topics), \
        Sweep(engine, topics)
    engine.dispose()


def _command(order_id: str, action: str, role: str, unit: str, **extra) -> WorkOrderCommandV1:
    return WorkOrderCommandV1.model_validate({
        "idempotency_key": f"{action}-{order_id}-{len(extra)}-{role}", "order_id": order_id, "action": action,
        "actor": {"user_id": f"{role}-1", "role": role, "unit_code": unit}, **extra})


def test_a_reassigned_order_charges_each_unit_for_its_own_time(loop):
    engine, intake, commands, sweep = loop
    clock = Clock(cst(2025, 11, 17, 9))  # a Monday
    incident = {"source_id": "T1", "received_at": clock.now.isoformat(), "channel": "phone",
                "summary": "小区路灯坏了一个多星期", "address": "萧山区新塘街道"}
    routed = intake.handle([FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], clock.now)
    order_id = routed.routed[0].order_id
    new_tang, bei_gan = "330109004", "330109002"

    # 签收 is due in 30 minutes (default policy): nothing fires early, the 50 % warning fires at 15 minutes.
    assert sweep.tick(clock.advance(minutes=14)).fired == 0
    assert sweep.tick(clock.advance(minutes=1, seconds=1)).fired == 1
    # The town returns it (not ours), the district reassigns it to 北干 at 09:40.
    clock.advance(minutes=10)
    assert commands.handle(_command(order_id, "request_return", "town_operator", new_tang, reason_code="R01"),
                           clock.now).status == "accepted"
    assert commands.handle(_command(order_id, "approve_return", "district_dispatcher", "330109",
                                    target_town=bei_gan), clock.advance(minutes=5)).status == "accepted"
    reassigned_at = clock.now

    # 新塘's old clocks are stale; 北干's run from the reassignment: its 签收 breach at 10:15.
    sweep.tick(clock.advance(minutes=29))
    with engine.connect() as conn:
        fired = list(conn.execute(select(sla_timers).where(sla_timers.c.status == "fired")))
        segments = list(conn.execute(select(holdings).order_by(holdings.c.from_at)))
        order = conn.execute(select(work_orders)).one()
    assert [(t.unit_code, t.stage, t.kind) for t in fired] == [
        (new_tang, "acknowledge", "warning_50"), (bei_gan, "acknowledge", "warning_50"),
        (bei_gan, "acknowledge", "warning_80")]
    assert [(s.unit_code, s.from_at, s.to_at) for s in segments] == [
        (new_tang, cst(2025, 11, 17, 9), reassigned_at), (bei_gan, reassigned_at, None)]
    assert (order.town_code, order.generation, order.returns) == (bei_gan, 1, 1)

    sweep.tick(clock.advance(minutes=2))
    with engine.connect() as conn:
        breach = conn.execute(select(sla_timers).where(sla_timers.c.kind == "breach",
                                                       sla_timers.c.status == "fired")).one()
        effects = [e.kind for e in conn.execute(select(order_events).order_by(order_events.c.id))]
    assert (breach.unit_code, breach.stage, breach.due_at) == (bei_gan, "acknowledge", reassigned_at + timedelta(minutes=30))
    assert effects[-2:] == ["sla.acknowledge.breach", "sla.acknowledge.escalation.remind"]
    # 签收 stops the acknowledge clock: its remaining ladder never fires.
    commands.handle(_command(order_id, "acknowledge", "town_operator", bei_gan), clock.advance(minutes=1))
    sweep.tick(clock.advance(days=2))
    with engine.connect() as conn:
        kinds = {(t.stage, t.kind, t.status) for t in conn.execute(select(sla_timers).where(
            sla_timers.c.generation == 1, sla_timers.c.stage == "acknowledge"))}
    assert ("acknowledge", "escalation.supervise", "cancelled") in kinds
    assert ("acknowledge", "escalation.notify", "cancelled") in kinds


@pytest.mark.parametrize(("stage", "kind"), [(Stage.ACKNOWLEDGE, "breach"), (Stage.REPORT, "warning_80"),
                                             (Stage.RESOLVE, "escalation.supervise")])
def test_an_effect_kind_reads_back_as_its_stage_and_kind(stage, kind):
    assert parse_effect_kind(effect_kind(stage, kind)) == (stage, kind)


@pytest.mark.parametrize("text", ["acknowledge", "rejected", "sla.", "sla.acknowledge", "sla.nowhere.breach",
                                  "slack.report.breach"])
def test_other_audit_kinds_are_no_effect(text):
    assert parse_effect_kind(text) is None
