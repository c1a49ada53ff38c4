"""Random command sequences against `decide` and a reference model written apart from its table.

The reference is plain if/else over strings; it must agree with `decide` on every step: accepted
or refused (and why), and the whole order afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from router.domain.lifecycle import (
    TERMINAL,
    Accepted,
    Action,
    Actor,
    Command,
    LifecycleRules,
    Order,
    Rejected,
    Role,
    State,
    decide,
)

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 2, 9, 30, tzinfo=CST)
TOWNS = ("330109004", "330109113", "330109002")
DISTRICT = "330109"
REASONS = {"R01": "非本镇街辖区", "R02": "非本单位职责"}
MAX_RETURNS = 1  # low, so random sequences reach the cap
RULES = LifecycleRules(return_reasons=REASONS, max_returns=MAX_RETURNS)


# --- the reference model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    state: str
    town: str
    centre: str
    due: datetime | None
    returns: int = 0
    previous: str | None = None
    pending: timedelta | None = None
    generation: int = 0
    district_run: bool = False


TOWN_SIDE = ("town_operator", "town_leader", "integration")


def may(role: str, action: str) -> bool:
    if role == "admin":
        return True
    if action in ("acknowledge", "report", "request_return", "request_extension"):
        return role in TOWN_SIDE or role == "district_operator"
    if action in ("approve_report", "reject_report", "record_callback", "withdraw"):
        return role in ("district_dispatcher", "district_supervisor")
    if action in ("approve_return", "reject_return", "transfer", "merge"):
        return role == "district_dispatcher"
    return role == "district_supervisor"  # extension decisions, park, unpark


def reopen(m: Model) -> Model:
    return replace(m, state="reopened", due=None, generation=m.generation + 1)


def expected(m: Model, c: Command) -> tuple[str | None, Model]:
    """The refusal code and the unchanged model, or None and the model after the command."""
    a, s, role = c.action, m.state, c.actor.role
    illegal = ("illegal_transition", m)
    working = s in ("acknowledged", "reopened")
    if not may(role, a):
        return "role_not_allowed", m
    if role in TOWN_SIDE and c.actor.unit_code != m.town:
        return "other_town", m
    if role == "district_operator" and not (m.district_run and c.actor.unit_code == m.centre):
        return "other_town", m
    if a == "acknowledge":
        return (None, replace(m, state="acknowledged")) if s == "dispatched" else illegal
    if a == "report":
        if not working and s != "extension_requested":
            return illegal
        return None, replace(m, state="reported", previous=None, pending=None)
    if a == "approve_report":
        return (None, replace(m, state="closed")) if s == "reported" else illegal
    if a == "reject_report":
        return (None, reopen(m)) if s == "reported" else illegal
    if a == "record_callback":
        if s != "closed":
            return illegal
        if c.satisfied is None:
            return "missing_satisfaction", m
        return None, (m if c.satisfied else reopen(m))
    if a == "request_return":
        if s not in ("dispatched", "acknowledged"):
            return illegal
        if m.returns >= MAX_RETURNS:
            return "return_cap_reached", m
        if c.reason_code not in REASONS:
            return "unknown_reason_code", m
        return None, replace(m, state="return_requested", previous=s)
    if a in ("approve_return", "transfer"):
        if s not in (("return_requested",) if a == "approve_return" else ("dispatched", "acknowledged", "reopened")):
            return illegal
        if not c.target_town or not c.target_centre:
            return "missing_target", m
        if c.target_town == m.town:
            return "same_town", m
        returns = m.returns + (1 if a == "approve_return" else 0)
        return None, Model("dispatched", c.target_town, c.target_centre, None, returns, None, None, m.generation + 1,
                           c.target_district_run)
    if a == "reject_return":
        return (None, replace(m, state=m.previous, previous=None)) if s == "return_requested" else illegal
    if a == "request_extension":
        if not working:
            return illegal
        if c.extension is None or c.extension <= timedelta(0):
            return "invalid_extension", m
        if m.due is None:
            return "no_report_deadline", m
        if c.at >= m.due:
            return "extension_after_deadline", m
        return None, replace(m, state="extension_requested", previous=s, pending=c.extension)
    if a in ("approve_extension", "refuse_extension"):
        if s != "extension_requested":
            return illegal
        due = m.due + m.pending if a == "approve_extension" and m.due and m.pending else m.due
        return None, replace(m, state=m.previous, previous=None, pending=None, due=due)
    if a == "park":
        return (None, replace(m, state="parked", previous=s)) if working else illegal
    if a == "unpark":
        return (None, replace(m, state=m.previous, previous=None)) if s == "parked" else illegal
    if a == "withdraw":
        if s in ("closed", "merged", "withdrawn"):
            return illegal
        return None, replace(m, state="withdrawn", previous=None, pending=None)
    if a == "merge":
        if s not in ("dispatched", "acknowledged"):
            return illegal
        if not c.merge_into:
            return "missing_merge_target", m
        if c.merge_into == "WO-1":
            return "merge_into_itself", m
        return None, replace(m, state="merged")
    raise AssertionError(f"the reference model does not know {a}")


def as_model(o: Order) -> Model:
    return Model(o.state, o.town_code, o.centre_code, o.report_due, o.returns, o.previous, o.pending_extension,
                 o.generation, o.district_run)


# --- the machine -------------------------------------------------------------------------------------

WHEN = {
    "long_before": -timedelta(hours=20), "just_before": -timedelta(seconds=1), "at": timedelta(0),
    "just_after": timedelta(seconds=1), "long_after": timedelta(days=3),
}
# Ending an order is easy to stumble on; the guided rule does it now and then.
ENDINGS = [Action.WITHDRAW, Action.MERGE]
ONGOING = [action for action in Action if action not in ENDINGS]
NOT_HERE = ("role_not_allowed", "other_town", "illegal_transition")

# Command arguments; `to_town` and `when` are resolved against the order at the time.
ARGUMENTS = st.fixed_dictionaries({
    "when": st.sampled_from(sorted(WHEN)),
    "reason_code": st.sampled_from([None, "R01", "R02", "R99"]),
    "to_town": st.sampled_from(["own", "other", "none"]),
    "centre": st.booleans(),
    "extension": st.sampled_from([None, timedelta(0), -timedelta(hours=1), timedelta(hours=8), timedelta(days=2)]),
    "merge_into": st.sampled_from([None, "", "WO-1", "WO-2"]),
    "satisfied": st.sampled_from([None, True, False]),
    "text": st.sampled_from([None, "已处置"]),
})
WELL_FORMED = st.fixed_dictionaries({
    "when": st.sampled_from(["long_before", "just_before", "at"]),
    "reason_code": st.just("R01"),
    "to_town": st.just("other"),
    "centre": st.just(True),
    "extension": st.sampled_from([timedelta(hours=8), timedelta(days=2)]),
    "merge_into": st.just("WO-2"),
    "satisfied": st.booleans(),
    "text": st.just(None),
})

class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.open_new_order()

    def open_new_order(self) -> None:
        due = START + timedelta(hours=24)
        self.order = Order("WO-1", State.DISPATCHED, TOWNS[0], TOWNS[0], due)
        self.model = Model("dispatched", TOWNS[0], TOWNS[0], due)
        self.highest_generation = 0

    def time(self, when: str) -> datetime:
        return (self.order.report_due or START) + WHEN[when]

    def town(self, which: str) -> str | None:
        """own: the order's town; other: the next one; none: missing."""
        own = TOWNS.index(self.order.town_code)
        return {"own": TOWNS[own], "other": TOWNS[(own + 1) % len(TOWNS)], "none": None}[which]

    def step(self, command: Command) -> None:
        before = self.order
        result = decide(before, command, RULES)
        code, after = expected(self.model, command)
        if code is None:
            assert isinstance(result, Accepted), (command, result)
            assert as_model(result.order) == after, (command, result.order, after)
            transition = result.event
            assert (transition.from_state, transition.to_state, transition.generation) == (
                before.state, result.order.state, result.order.generation)
            event(f"{before.state} --{command.action}--> {result.order.state}")
            self.order = result.order
        else:
            assert isinstance(result, Rejected), (command, result, code)
            assert result.rejection.code == code, (command, result.rejection, code)
            assert result.rejection.state is before.state
            assert self.order is before and as_model(before) == after  # nothing changed
            event(f"refused: {code}")
        if before.state in TERMINAL:
            assert self.order == before
        self.model = after

    @rule(action=st.sampled_from(Action), role=st.sampled_from(Role), unit=st.sampled_from(["own", "other", "district"]),
          run_by=st.sampled_from(["town", "district"]), args=ARGUMENTS)
    def anyone(self, action, role, unit, run_by, args):
        """Any command by anyone: right or wrong role, town, time and arguments; a move may hand the order
        to a town the district centre runs (区中心代管)."""
        unit_code = DISTRICT if unit == "district" else self.town(unit)
        when = args.pop("when")
        target = self.town(args.pop("to_town"))
        with_centre = args.pop("centre")
        centre = DISTRICT if run_by == "district" else target
        self.step(Command(action, Actor("u-1", role, unit_code), self.time(when), target_town=target,
                          target_centre=centre if with_centre else None, target_district_run=run_by == "district",
                          **args))

    @rule(data=st.data(), by_town=st.booleans(), ending=st.integers(0, 5), sloppy=st.integers(0, 3))
    def guided(self, data, by_town, ending, sloppy):
        """A command the reference model finds legal here (though a guard may refuse it), to go deep quickly.

        Mostly well-formed arguments; now and then random ones, to meet the guards. Ending the order
        (withdraw, merge) is rarer than carrying on."""
        actor = Actor("u-2", Role.TOWN_OPERATOR, self.order.town_code) if by_town else Actor("u-3", Role.ADMIN, DISTRICT)
        args = data.draw(ARGUMENTS if sloppy == 0 else WELL_FORMED, label="arguments")
        when = args.pop("when")
        target = self.town(args.pop("to_town"))
        with_centre = args.pop("centre")
        commands = [Command(action, actor, self.time(when), target_town=target,
                            target_centre=target if with_centre else None, **args)
                    for action in (ENDINGS if ending == 0 else ONGOING)]
        legal = [c for c in commands if expected(self.model, c)[0] not in NOT_HERE]
        if legal:
            self.step(data.draw(st.sampled_from(legal), label="command"))

    @rule()
    def next_order(self):
        """Once an order has ended (and stayed ended for a while), carry on with a new one."""
        if self.order.state in TERMINAL:
            self.open_new_order()

    @rule(hours=st.integers(min_value=1, max_value=72))
    def sla_sets_the_deadline(self, hours):
        """The shell gives a new generation its report deadline from the SLA policy."""
        if self.order.report_due is None:
            due = START + timedelta(hours=hours)
            self.order = replace(self.order, report_due=due)
            self.model = replace(self.model, due=due)

    @invariant()
    def returns_stay_under_the_cap(self):
        assert 0 <= self.order.returns <= MAX_RETURNS

    @invariant()
    def generation_never_decreases(self):
        assert self.order.generation >= self.highest_generation
        self.highest_generation = self.order.generation


LifecycleMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestLifecycle = LifecycleMachine.TestCase
