"""The work-order state machine: a visible table and one function, `decide`, that returns the new order and its event.

`decide(order, command, rules)` is total: it returns `Accepted(order, event)` or `Rejected(rejection)`,
and a rejected command changes nothing. Checks run in a fixed order: the actor's role
(`ALLOWED_ROLES`), the actor's town (town roles act only on their own town's orders), the
transition (`TRANSITIONS`), then the action's guard (`GUARDS`). Constructing an `Order` or a
`Command` that breaks an invariant (a naive datetime, a `previous` state the order could not have
come from) raises `ValueError`: that is a bug in the caller, not a business outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class State(StrEnum):
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    RETURN_REQUESTED = "return_requested"
    EXTENSION_REQUESTED = "extension_requested"
    REPORTED = "reported"
    REOPENED = "reopened"
    PARKED = "parked"
    CLOSED = "closed"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


STATE_TERMS: Mapping[State, str] = MappingProxyType({
    State.DISPATCHED: "待签收",
    State.ACKNOWLEDGED: "已签收/处置中",
    State.RETURN_REQUESTED: "退单待审",
    State.EXTENSION_REQUESTED: "延期待审",
    State.REPORTED: "已反馈/待审核",
    State.REOPENED: "重办",
    State.PARKED: "挂账",
    State.CLOSED: "办结",
    State.MERGED: "并单",
    State.WITHDRAWN: "撤单",
})

# closed is not terminal: an unsatisfied callback (回访) reopens it.
TERMINAL: frozenset[State] = frozenset({State.MERGED, State.WITHDRAWN})
# Finished (办结, 撤单, 并单): no clock runs, nobody works on it, nothing merges into it.
FINISHED: frozenset[State] = TERMINAL | {State.CLOSED}
OPEN: frozenset[State] = frozenset(State) - FINISHED
# A repeated report merges into an order still being worked on; one already reported (awaiting
# review) gets an order of its own, so the new report is not lost in a review of the old one.
MERGEABLE: frozenset[State] = OPEN - {State.REPORTED}


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    REPORT = "report"
    APPROVE_REPORT = "approve_report"
    REJECT_REPORT = "reject_report"
    RECORD_CALLBACK = "record_callback"
    REQUEST_RETURN = "request_return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    TRANSFER = "transfer"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    PARK = "park"
    UNPARK = "unpark"
    WITHDRAW = "withdraw"
    MERGE = "merge"


ACTION_TERMS: Mapping[Action, str] = MappingProxyType({
    Action.ACKNOWLEDGE: "签收",
    Action.REPORT: "反馈",
    Action.APPROVE_REPORT: "审核通过",
    Action.REJECT_REPORT: "审核不通过",
    Action.RECORD_CALLBACK: "回访",
    Action.REQUEST_RETURN: "退单",
    Action.APPROVE_RETURN: "改派",
    Action.REJECT_RETURN: "退单驳回",
    Action.TRANSFER: "转派",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.APPROVE_EXTENSION: "同意延期",
    Action.REFUSE_EXTENSION: "不同意延期",
    Action.PARK: "挂账",
    Action.UNPARK: "解除挂账",
    Action.WITHDRAW: "撤单",
    Action.MERGE: "并单",
})


class Target(StrEnum):
    """Table targets that depend on the order or the command instead of naming one state."""

    PREVIOUS = "previous"  # the state before the request or the park (`Order.previous`)
    BY_CALLBACK = "by_callback"  # closed if the citizen is satisfied, else reopened


PREVIOUS = Target.PREVIOUS
BY_CALLBACK = Target.BY_CALLBACK

# (from state, action) → to state. Anything absent is illegal.
TRANSITIONS: Mapping[tuple[State, Action], State | Target] = MappingProxyType({
    (State.DISPATCHED, Action.ACKNOWLEDGE): State.ACKNOWLEDGED,
    (State.DISPATCHED, Action.REQUEST_RETURN): State.RETURN_REQUESTED,
    (State.DISPATCHED, Action.TRANSFER): State.DISPATCHED,
    (State.DISPATCHED, Action.MERGE): State.MERGED,
    (State.DISPATCHED, Action.WITHDRAW): State.WITHDRAWN,

    (State.ACKNOWLEDGED, Action.REPORT): State.REPORTED,
    (State.ACKNOWLEDGED, Action.REQUEST_RETURN): State.RETURN_REQUESTED,
    (State.ACKNOWLEDGED, Action.REQUEST_EXTENSION): State.EXTENSION_REQUESTED,
    (State.ACKNOWLEDGED, Action.TRANSFER): State.DISPATCHED,
    (State.ACKNOWLEDGED, Action.PARK): State.PARKED,
    (State.ACKNOWLEDGED, Action.MERGE): State.MERGED,
    (State.ACKNOWLEDGED, Action.WITHDRAW): State.WITHDRAWN,

    (State.RETURN_REQUESTED, Action.APPROVE_RETURN): State.DISPATCHED,
    (State.RETURN_REQUESTED, Action.REJECT_RETURN): PREVIOUS,
    (State.RETURN_REQUESTED, Action.WITHDRAW): State.WITHDRAWN,

    # A town that finishes while its extension request waits may report; the request lapses.
    (State.EXTENSION_REQUESTED, Action.REPORT): State.REPORTED,
    (State.EXTENSION_REQUESTED, Action.APPROVE_EXTENSION): PREVIOUS,
    (State.EXTENSION_REQUESTED, Action.REFUSE_EXTENSION): PREVIOUS,
    (State.EXTENSION_REQUESTED, Action.WITHDRAW): State.WITHDRAWN,

    (State.REPORTED, Action.APPROVE_REPORT): State.CLOSED,
    (State.REPORTED, Action.REJECT_REPORT): State.REOPENED,
    (State.REPORTED, Action.WITHDRAW): State.WITHDRAWN,

    (State.REOPENED, Action.REPORT): State.REPORTED,
    (State.REOPENED, Action.REQUEST_EXTENSION): State.EXTENSION_REQUESTED,
    (State.REOPENED, Action.TRANSFER): State.DISPATCHED,
    (State.REOPENED, Action.PARK): State.PARKED,
    (State.REOPENED, Action.WITHDRAW): State.WITHDRAWN,

    (State.PARKED, Action.UNPARK): PREVIOUS,
    (State.PARKED, Action.WITHDRAW): State.WITHDRAWN,

    (State.CLOSED, Action.RECORD_CALLBACK): BY_CALLBACK,
})

# States that remember where they came from, for a PREVIOUS target.
REMEMBERING: frozenset[State] = frozenset({State.RETURN_REQUESTED, State.EXTENSION_REQUESTED, State.PARKED})
_CAME_FROM: Mapping[State, frozenset[State]] = {
    state: frozenset(source for (source, _), to in TRANSITIONS.items() if to is state) for state in REMEMBERING
}


class Role(StrEnum):
    TOWN_OPERATOR = "town_operator"
    TOWN_LEADER = "town_leader"
    DISTRICT_DISPATCHER = "district_dispatcher"
    DISTRICT_SUPERVISOR = "district_supervisor"
    DISTRICT_OPERATOR = "district_operator"  # 区中心值班员: works the orders of towns not onboarded (区中心代管)
    ADMIN = "admin"
    INTEGRATION = "integration"  # a town system; acts as its unit


# Town roles act only on orders whose town_code is their unit_code; district roles and admin on any,
# except the district operator, who does a town's work only on the orders the district centre runs.
TOWN_ROLES: frozenset[Role] = frozenset({Role.TOWN_OPERATOR, Role.TOWN_LEADER, Role.INTEGRATION})
DISTRICT_ROLES: frozenset[Role] = frozenset(Role) - TOWN_ROLES

_TOWN = TOWN_ROLES | {Role.DISTRICT_OPERATOR, Role.ADMIN}
_DISPATCH = frozenset({Role.DISTRICT_DISPATCHER, Role.ADMIN})
_SUPERVISE = frozenset({Role.DISTRICT_SUPERVISOR, Role.ADMIN})
_DISTRICT = _DISPATCH | _SUPERVISE

ALLOWED_ROLES: Mapping[Action, frozenset[Role]] = MappingProxyType({
    Action.ACKNOWLEDGE: _TOWN,
    Action.REPORT: _TOWN,
    Action.REQUEST_RETURN: _TOWN,
    Action.REQUEST_EXTENSION: _TOWN,
    Action.APPROVE_REPORT: _DISTRICT,
    Action.REJECT_REPORT: _DISTRICT,
    Action.RECORD_CALLBACK: _DISTRICT,
    Action.WITHDRAW: _DISTRICT,
    Action.APPROVE_RETURN: _DISPATCH,
    Action.REJECT_RETURN: _DISPATCH,
    Action.TRANSFER: _DISPATCH,
    Action.MERGE: _DISPATCH,
    Action.APPROVE_EXTENSION: _SUPERVISE,
    Action.REFUSE_EXTENSION: _SUPERVISE,
    Action.PARK: _SUPERVISE,
    Action.UNPARK: _SUPERVISE,
})


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role
    unit_code: str  # a town code, or the district centre's code


@dataclass(frozen=True, slots=True)
class Command:
    """One user's or system's request to act on one order at `at` (the core never reads a clock)."""

    action: Action
    actor: Actor
    at: datetime
    reason_code: str | None = None
    text: str | None = None
    target_town: str | None = None
    target_centre: str | None = None
    target_district_run: bool = False  # the target town is not onboarded: the district centre runs it
    extension: timedelta | None = None
    merge_into: str | None = None
    satisfied: bool | None = None
    # What the shell found when it looked the targets up: False when the town or the order named
    # does not exist; the state of the order to merge into, when there is one.
    target_known: bool = True
    merge_target_state: State | None = None
    # False when an attached photo reference (photo:<id>) names no photo of this order.
    photos_known: bool = True

    def __post_init__(self) -> None:
        _require_aware("at", self.at)


@dataclass(frozen=True, slots=True)
class Order:
    """What the state machine knows of a work order. `generation` grows when the order changes hands
    or is reopened, so SLA timers of an older generation are recognisably stale."""

    order_id: str
    state: State
    town_code: str
    centre_code: str
    report_due: datetime | None
    returns: int = 0
    previous: State | None = None
    pending_extension: timedelta | None = None
    generation: int = 0
    district_run: bool = False  # 区中心代管: the town is not onboarded, the district centre works it

    @property
    def charged_unit(self) -> str:
        """The unit its clocks are charged to (timers, holding segments, the ranking): the town, or the
        district centre while it runs the order for a town not onboarded."""
        return self.centre_code if self.district_run else self.town_code

    def __post_init__(self) -> None:
        if not isinstance(self.state, State):
            raise ValueError(f"state must be a State, got {self.state!r}")
        _require_aware("report_due", self.report_due)
        if self.returns < 0 or self.generation < 0:
            raise ValueError(f"returns and generation must be >= 0, got {self.returns}, {self.generation}")
        if self.previous not in _CAME_FROM.get(self.state, {None}):
            raise ValueError(f"an order that is {self.state} cannot have previous state {self.previous}")
        waiting = self.state is State.EXTENSION_REQUESTED
        if waiting != (self.pending_extension is not None and self.pending_extension > timedelta(0)):
            raise ValueError(f"an order that is {self.state} cannot have pending extension {self.pending_extension}")


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """The bundle's lifecycle data: 退单 reasons (code → Chinese name) and how many returns an order allows.

    `misroutes` names the reasons that say the routing was wrong (code → `town`: not this town's;
    `police`: not a non-police matter): such returns become labelled cases (`fengqiao cases export`).
    """

    return_reasons: Mapping[str, str]
    max_returns: int
    misroutes: Mapping[str, str] = field(default_factory=dict)


Detail = str | int | bool


@dataclass(frozen=True, slots=True)
class Transition:
    """An accepted command: the event the shell records, publishes and logs. `generation` is the new one;
    `details` are JSON-ready (times as ISO 8601 text, durations in seconds)."""

    order_id: str
    action: Action
    from_state: State
    to_state: State
    at: datetime
    actor: Actor
    generation: int
    details: tuple[tuple[str, Detail], ...] = ()

    def detail(self, key: str, default: Detail | None = None) -> Detail | None:
        return dict(self.details).get(key, default)


class RejectionCode(StrEnum):
    ROLE_NOT_ALLOWED = "role_not_allowed"
    OTHER_TOWN = "other_town"
    ILLEGAL_TRANSITION = "illegal_transition"
    RETURN_CAP_REACHED = "return_cap_reached"
    UNKNOWN_REASON_CODE = "unknown_reason_code"
    INVALID_EXTENSION = "invalid_extension"
    NO_REPORT_DEADLINE = "no_report_deadline"
    EXTENSION_AFTER_DEADLINE = "extension_after_deadline"
    MISSING_TARGET = "missing_target"
    SAME_TOWN = "same_town"
    MISSING_MERGE_TARGET = "missing_merge_target"
    MERGE_INTO_ITSELF = "merge_into_itself"
    MISSING_SATISFACTION = "missing_satisfaction"
    UNKNOWN_TARGET = "unknown_target"
    INVALID_MERGE_TARGET = "invalid_merge_target"
    UNKNOWN_PHOTO = "unknown_photo"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused command; `reason` is for people (it names the state and the command), `code` for machines."""

    order_id: str
    action: Action
    state: State
    actor: Actor
    at: datetime
    reason: str
    code: RejectionCode


@dataclass(frozen=True, slots=True)
class Accepted:
    order: Order
    event: Transition


@dataclass(frozen=True, slots=True)
class Rejected:
    rejection: Rejection


Refusal = tuple[RejectionCode, str]
Guard = Callable[[Order, Command, LifecycleRules], Refusal | None]
Details = tuple[tuple[str, Detail], ...]
Changes = dict[str, Any]
Effect = Callable[[Order, Command], tuple[Changes, Details]]


def _named(state: State) -> str:
    return f"{state} ({STATE_TERMS[state]})"


# --- guards: each returns a refusal or None -------------------------------------------------------

def _return_allowed(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    if order.returns >= rules.max_returns:
        return (RejectionCode.RETURN_CAP_REACHED,
                f"return cap reached: the order has been returned {order.returns} times (max {rules.max_returns}); "
                "the district may transfer it")
    if command.reason_code is None:
        return RejectionCode.UNKNOWN_REASON_CODE, "request_return needs a reason code"
    if command.reason_code not in rules.return_reasons:
        return (RejectionCode.UNKNOWN_REASON_CODE,
                f"unknown return reason code {command.reason_code!r}; known: {', '.join(sorted(rules.return_reasons))}")
    return None


def _extension_allowed(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    if command.extension is None or command.extension <= timedelta(0):
        return RejectionCode.INVALID_EXTENSION, f"request_extension needs a positive extension, got {command.extension}"
    if order.report_due is None:
        return RejectionCode.NO_REPORT_DEADLINE, "request_extension on an order with no report deadline"
    if command.at >= order.report_due:
        return (RejectionCode.EXTENSION_AFTER_DEADLINE,
                f"extension requested at {command.at.isoformat()}, not before the report deadline "
                f"{order.report_due.isoformat()}")
    return None


def _new_town_given(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    if not command.target_town:
        return RejectionCode.MISSING_TARGET, f"{command.action} needs a target town"
    if not command.target_known:
        return RejectionCode.UNKNOWN_TARGET, f"unknown town {command.target_town}"
    if not command.target_centre:
        return RejectionCode.MISSING_TARGET, f"{command.action} needs a target command centre"
    if command.target_town == order.town_code:
        return RejectionCode.SAME_TOWN, f"{command.action} to the same town {order.town_code}"
    return None


def _merge_target_given(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    if not command.merge_into:
        return RejectionCode.MISSING_MERGE_TARGET, "merge needs the order to merge into"
    if command.merge_into == order.order_id:
        return RejectionCode.MERGE_INTO_ITSELF, f"cannot merge order {order.order_id} into itself"
    if not command.target_known:
        return RejectionCode.UNKNOWN_TARGET, f"no work order {command.merge_into} to merge into"
    if command.merge_target_state in FINISHED:
        # Its callers would wait on an order nobody works on (or merge back: A into B into A).
        return (RejectionCode.INVALID_MERGE_TARGET,
                f"work order {command.merge_into} is {_named(command.merge_target_state)}: nothing merges into it")
    return None


def _satisfaction_given(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    if command.satisfied is None:
        return RejectionCode.MISSING_SATISFACTION, "record_callback needs whether the citizen is satisfied"
    return None


GUARDS: Mapping[Action, Guard] = MappingProxyType({
    Action.REQUEST_RETURN: _return_allowed,
    Action.REQUEST_EXTENSION: _extension_allowed,
    Action.APPROVE_RETURN: _new_town_given,
    Action.TRANSFER: _new_town_given,
    Action.MERGE: _merge_target_given,
    Action.RECORD_CALLBACK: _satisfaction_given,
})


def _out_of_scope(order: Order, actor: Actor) -> str | None:
    """Why `actor` may not act on `order` whatever its role allows, or None: a town role's order is its own
    town's; the district operator's is one the district centre runs (区中心代管)."""
    if actor.role in TOWN_ROLES and actor.unit_code != order.town_code:
        return f"an order of another town: {actor.user_id} acts for {actor.unit_code}"
    if actor.role is Role.DISTRICT_OPERATOR and not (order.district_run and actor.unit_code == order.centre_code):
        return f"an order its town's own centre works: {actor.user_id} works the district centre's"
    return None


def _refusal(order: Order, command: Command, rules: LifecycleRules) -> Refusal | None:
    actor, action = command.actor, command.action
    if actor.role not in ALLOWED_ROLES[action]:
        return RejectionCode.ROLE_NOT_ALLOWED, f"role {actor.role} may not {action} ({ACTION_TERMS[action]})"
    if (scope := _out_of_scope(order, actor)) is not None:
        return RejectionCode.OTHER_TOWN, f"cannot {action} {scope}"
    if (order.state, action) not in TRANSITIONS:
        return RejectionCode.ILLEGAL_TRANSITION, f"cannot {action} an order that is {_named(order.state)}"
    if not command.photos_known:
        return RejectionCode.UNKNOWN_PHOTO, f"an attached photo is no photo of order {order.order_id}"
    guard = GUARDS.get(action)
    return guard(order, command, rules) if guard else None


# --- effects: what an action changes besides the state, and what it tells -------------------------

def _no_effect(order: Order, command: Command) -> tuple[Changes, Details]:
    return {}, ()


def _hand_over(order: Order, command: Command) -> tuple[Changes, Details]:
    returns = order.returns + (command.action is Action.APPROVE_RETURN)
    return ({"town_code": command.target_town, "centre_code": command.target_centre,
             "district_run": command.target_district_run, "returns": returns},
            (("from_town", order.town_code), ("to_town", str(command.target_town)),
             ("from_centre", order.centre_code), ("to_centre", str(command.target_centre)), ("returns", returns)))


def _hold_extension(order: Order, command: Command) -> tuple[Changes, Details]:
    assert command.extension is not None  # _extension_allowed
    return {"pending_extension": command.extension}, (("extension_s", int(command.extension.total_seconds())),)


def _extend(order: Order, command: Command) -> tuple[Changes, Details]:
    assert order.report_due is not None and order.pending_extension is not None  # extension_requested
    due = order.report_due + order.pending_extension
    return ({"report_due": due},
            (("extension_s", int(order.pending_extension.total_seconds())), ("new_report_due", due.isoformat())))


def _callback(order: Order, command: Command) -> tuple[Changes, Details]:
    return {}, (("satisfied", bool(command.satisfied)),)


def _merge(order: Order, command: Command) -> tuple[Changes, Details]:
    return {}, (("merge_into", str(command.merge_into)),)


EFFECTS: Mapping[Action, Effect] = MappingProxyType({
    Action.APPROVE_RETURN: _hand_over,
    Action.TRANSFER: _hand_over,
    Action.REQUEST_EXTENSION: _hold_extension,
    Action.APPROVE_EXTENSION: _extend,
    Action.RECORD_CALLBACK: _callback,
    Action.MERGE: _merge,
})


def _resolve(target: State | Target, order: Order, command: Command) -> State:
    if target is Target.PREVIOUS:
        assert order.previous is not None  # Order.__post_init__ holds it for REMEMBERING states
        return order.previous
    if target is Target.BY_CALLBACK:
        return State.CLOSED if command.satisfied else State.REOPENED
    return target


def starts_new_generation(action: Action, to_state: State) -> bool:
    """Reassigning (改派), transferring (转派) or reopening (重办) restarts the clocks under a new generation.

    Coming back to reopened from an extension request or a park is not a reopening."""
    reopening = to_state is State.REOPENED and action in (Action.REJECT_REPORT, Action.RECORD_CALLBACK)
    return reopening or action in (Action.APPROVE_RETURN, Action.TRANSFER)


def decide(order: Order, command: Command, rules: LifecycleRules) -> Accepted | Rejected:
    """The order after `command` and the event it yields, or why the command is refused (the order unchanged)."""
    refusal = _refusal(order, command, rules)
    if refusal is not None:
        code, reason = refusal
        return Rejected(Rejection(order.order_id, command.action, order.state, command.actor, command.at, reason, code))
    to_state = _resolve(TRANSITIONS[order.state, command.action], order, command)
    changes, details = EFFECTS.get(command.action, _no_effect)(order, command)
    new_generation = starts_new_generation(command.action, to_state)
    after = replace(order, **{
        **changes,
        "state": to_state,
        "previous": order.state if to_state in REMEMBERING else None,
        "pending_extension": changes.get("pending_extension") if to_state is State.EXTENSION_REQUESTED else None,
        # The new generation's report deadline comes from the SLA policy (router.domain.sla), not the old holder.
        "report_due": None if new_generation else changes.get("report_due", order.report_due),
        "generation": order.generation + new_generation,
    })
    said = tuple((key, value) for key, value in (("reason_code", command.reason_code), ("text", command.text)) if value)
    event = Transition(order.order_id, command.action, order.state, to_state, command.at, command.actor,
                       after.generation, said + details)
    return Accepted(after, event)


def available_actions(order: Order, actor: Actor) -> tuple[Action, ...]:
    """The actions `actor` may try on `order` (guards such as deadlines may still refuse)."""
    if _out_of_scope(order, actor) is not None:
        return ()
    return tuple(a for a in Action if (order.state, a) in TRANSITIONS and actor.role in ALLOWED_ROLES[a])
