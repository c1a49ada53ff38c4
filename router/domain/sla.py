"""SLA clocks (时限): when each warning, breach and escalation of a stage falls due.

Pure planning: given when a stage's clock starts, the policy and the working calendar,
return the timers. Timers become rows (`router.store`), and the sweep fires them; whether
a timer still matters when it falls due is decided by `is_pending`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from router.domain.lifecycle import FINISHED, Action, Order, State
from router.domain.workdays import WorkCalendar


class Stage(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # 签收
    REPORT = "report"  # 反馈
    RESOLVE = "resolve"  # 办结


_STAGES = frozenset(s.value for s in Stage)


class Unit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"


class ClockStart(StrEnum):
    DISPATCH = "dispatch"
    ACKNOWLEDGE = "acknowledge"


@dataclass(frozen=True, slots=True)
class Limit:
    amount: int
    unit: Unit

    def due(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.unit is Unit.WORKING_DAYS:
            return calendar.add_working_days(start, self.amount)
        return start + timedelta(minutes=self.amount if self.unit is Unit.MINUTES else self.amount * 60)


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One rung of the ladder: 催办 remind, 督办 supervise, 通报 notify; `after` the breach."""

    kind: str
    after: timedelta
    target: str  # centre | town_leader | district


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Deadlines for one (matter type, priority); `acknowledge` is wall-clock (centres work 24 h)."""

    acknowledge: Limit
    report: Limit
    resolve: Limit
    clock_start: ClockStart
    warn_at: tuple[float, ...]
    ladder: tuple[EscalationStep, ...]

    def limit(self, stage: Stage) -> Limit:
        return {Stage.ACKNOWLEDGE: self.acknowledge, Stage.REPORT: self.report, Stage.RESOLVE: self.resolve}[stage]


STAGE_TERMS = {"acknowledge": "签收", "report": "反馈", "resolve": "办结"}
SLA_TERMS = {"breach": "超时", "escalation.remind": "催办", "escalation.supervise": "督办",
             "escalation.notify": "通报"}


def sla_term(kind: str) -> str:
    """warning_80 → 预警80%, breach → 超时, escalation.supervise → 督办."""
    if kind.startswith("warning_"):
        return f"预警{kind.removeprefix('warning_')}%"
    return SLA_TERMS.get(kind, kind)


EFFECT_PREFIX = "sla."
"""Audit kinds of fired timers start with this; `router.store.views` matches it in SQL (LIKE)."""


def effect_kind(stage: Stage, kind: str) -> str:
    """The audit kind of a fired timer: `sla.<stage>.<kind>`, e.g. sla.acknowledge.escalation.remind."""
    return f"{EFFECT_PREFIX}{stage.value}.{kind}"


def parse_effect_kind(text: str) -> tuple[Stage, str] | None:
    """(stage, kind) of an SLA effect's audit kind; None for any other audit kind (an action, a fact)."""
    if not text.startswith(EFFECT_PREFIX):
        return None
    stage, _, kind = text.removeprefix(EFFECT_PREFIX).partition(".")
    if not kind or stage not in _STAGES:
        return None
    return Stage(stage), kind


@dataclass(frozen=True, slots=True)
class Timer:
    """One thing that must happen at `due_at` unless the stage is done by then."""

    order_id: str
    generation: int
    stage: Stage
    kind: str  # warning_50 | warning_80 | breach | escalation.remind | ...
    due_at: datetime
    unit_code: str  # the unit charged: the one holding the order


def plan(order: Order, stage: Stage, start: datetime, due: datetime, policy: SlaPolicy,
         calendar: WorkCalendar) -> list[Timer]:
    """Warnings at the policy's fractions of the clock, the breach at `due`, then the ladder."""
    working = policy.limit(stage).unit is Unit.WORKING_DAYS and stage is not Stage.ACKNOWLEDGE
    timers = []
    for fraction in policy.warn_at:
        if working:
            at = calendar.advance_working(start, calendar.working_seconds(start, due) * fraction)
        else:
            at = start + (due - start) * fraction
        timers.append(Timer(order.order_id, order.generation, stage, f"warning_{round(fraction * 100)}", at,
                            order.charged_unit))
    timers.append(Timer(order.order_id, order.generation, stage, "breach", due, order.charged_unit))
    for step in policy.ladder:
        timers.append(Timer(order.order_id, order.generation, stage, f"escalation.{step.kind}", due + step.after,
                            order.charged_unit))
    return timers


_PENDING = {
    Stage.ACKNOWLEDGE: frozenset({State.DISPATCHED}),
    # A report clock may start at dispatch (policy clock_start), so an unacknowledged order owes a report too.
    Stage.REPORT: frozenset({State.DISPATCHED, State.ACKNOWLEDGED, State.EXTENSION_REQUESTED, State.RETURN_REQUESTED,
                             State.REOPENED}),
    Stage.RESOLVE: frozenset({State.DISPATCHED, State.ACKNOWLEDGED, State.EXTENSION_REQUESTED,
                              State.RETURN_REQUESTED, State.REPORTED, State.REOPENED}),
}


# The one clock an order races now, by state (every list, filter, sort, countdown and board figure reads
# this): 签收 until it is acknowledged, then 反馈; none while a request waits for a decision (退单, 延期,
# the report's review), while it is parked (挂账), or once it is finished.
RUNNING: Mapping[State, Stage] = MappingProxyType({
    State.DISPATCHED: Stage.ACKNOWLEDGE,
    State.ACKNOWLEDGED: Stage.REPORT,
    State.REOPENED: Stage.REPORT,
})


def running_stage(state: State) -> Stage | None:
    """The stage whose deadline is running for an order in `state`, or None when no clock runs."""
    return RUNNING.get(state)


def breach_due(clocks: Clocks, stage: Stage) -> datetime | None:
    """The deadline `clocks` set for `stage` (its breach timer), or None when they set none."""
    return next((t.due_at for t in clocks.replace.get(stage, ()) if t.kind == "breach"), None)


def is_pending(order: Order, timer: Timer) -> bool:
    """Whether a due timer still matters: same hands (generation) and its stage not yet done."""
    return timer.generation == order.generation and order.state in _PENDING[timer.stage]


@dataclass(frozen=True, slots=True)
class Clocks:
    """What a transition does to an order's clocks: stages whose pending timers are replaced
    (an empty list just stops them), and the report deadline the order now has."""

    replace: dict[Stage, list[Timer]]
    report_due: datetime | None


_ALL = (Stage.ACKNOWLEDGE, Stage.REPORT, Stage.RESOLVE)


def clocks_on_open(order: Order, at: datetime, policy: SlaPolicy, calendar: WorkCalendar) -> Clocks:
    """A newly dispatched order, or one that changed hands (改派/转派): its clocks start over."""
    stages = _ALL if policy.clock_start is ClockStart.DISPATCH else (Stage.ACKNOWLEDGE,)
    return _start(order, at, stages, policy, calendar, stop=_ALL)


def clocks_after(action: Action, order: Order, at: datetime, policy: SlaPolicy, calendar: WorkCalendar) -> Clocks:
    """The clocks after an accepted action, `order` being the order after it."""
    if order.state in FINISHED or action is Action.PARK:
        return Clocks({stage: [] for stage in _ALL}, order.report_due)
    if action in (Action.APPROVE_RETURN, Action.TRANSFER):
        return clocks_on_open(order, at, policy, calendar)
    if action is Action.ACKNOWLEDGE and policy.clock_start is ClockStart.ACKNOWLEDGE:
        return _start(order, at, (Stage.REPORT, Stage.RESOLVE), policy, calendar, stop=(Stage.ACKNOWLEDGE,))
    if action is Action.ACKNOWLEDGE:
        return Clocks({Stage.ACKNOWLEDGE: []}, order.report_due)
    reopened = action in (Action.REJECT_REPORT, Action.RECORD_CALLBACK) and order.state is State.REOPENED
    if reopened or action is Action.UNPARK:
        return _start(order, at, (Stage.REPORT, Stage.RESOLVE), policy, calendar, stop=())
    if action is Action.APPROVE_EXTENSION and order.report_due is not None:
        return Clocks({Stage.REPORT: plan(order, Stage.REPORT, at, order.report_due, policy, calendar)},
                      order.report_due)
    if action is Action.REPORT:
        return Clocks({Stage.REPORT: []}, order.report_due)
    return Clocks({}, order.report_due)


def _start(order: Order, at: datetime, stages: tuple[Stage, ...], policy: SlaPolicy, calendar: WorkCalendar,
           stop: tuple[Stage, ...]) -> Clocks:
    replace: dict[Stage, list[Timer]] = {stage: [] for stage in stop}
    report_due = order.report_due
    for stage in stages:
        due = policy.limit(stage).due(at, calendar)
        replace[stage] = plan(order, stage, at, due, policy, calendar)
        if stage is Stage.REPORT:
            report_due = due
    return Clocks(replace, report_due)


@dataclass(frozen=True, slots=True)
class SlaTable:
    """Policies keyed by (matter type, priority); "*" matches any. The most specific row wins."""

    policies: dict[tuple[str, str], SlaPolicy]

    def policy_for(self, matter_type: str, priority: str) -> SlaPolicy:
        for key in ((matter_type, priority), (matter_type, "*"), ("*", priority), ("*", "*")):
            if key in self.policies:
                return self.policies[key]
        raise LookupError(f"no SLA policy for {matter_type}/{priority} and no default row (*,*)")
