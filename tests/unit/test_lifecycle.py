"""The work-order state machine: every (state, action) pair, the role and town tables, each guard, generations."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from router.domain.lifecycle import (
    ACTION_TERMS,
    ALLOWED_ROLES,
    BY_CALLBACK,
    PREVIOUS,
    STATE_TERMS,
    TERMINAL,
    TRANSITIONS,
    Accepted,
    Action,
    Actor,
    Command,
    LifecycleRules,
    Order,
    Rejected,
    RejectionCode,
    Role,
    State,
    decide,
)

S, A, R, C = State, Action, Role, RejectionCode
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=CST)
DUE = T0 + timedelta(hours=24)
XINTANG, GUALI, DISTRICT = "330109004", "330109113", "330109"
RULES = LifecycleRules(return_reasons={"R01": "非本镇街辖区", "R02": "非本单位职责"}, max_returns=2)
DOC = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"

ADMIN = Actor("admin-1", R.ADMIN, DISTRICT)
OPERATOR = Actor("op-1", R.TOWN_OPERATOR, XINTANG)
DISPATCHER = Actor("disp-1", R.DISTRICT_DISPATCHER, DISTRICT)
SUPERVISOR = Actor("sup-1", R.DISTRICT_SUPERVISOR, DISTRICT)

# Where a request or a park came from, for orders built directly in those states.
CAME_FROM = {S.RETURN_REQUESTED: S.ACKNOWLEDGED, S.EXTENSION_REQUESTED: S.REOPENED, S.PARKED: S.ACKNOWLEDGED}

# What each action needs to pass its guard.
VALID_ARGS: dict[Action, dict] = {
    A.REQUEST_RETURN: {"reason_code": "R01"},
    A.APPROVE_RETURN: {"target_town": GUALI, "target_centre": GUALI},
    A.TRANSFER: {"target_town": GUALI, "target_centre": GUALI},
    A.REQUEST_EXTENSION: {"extension": timedelta(hours=12)},
    A.MERGE: {"merge_into": "WO-2"},
    A.RECORD_CALLBACK: {"satisfied": False},
}


def order(state: State = S.DISPATCHED, **changes) -> Order:
    fields = {
        "order_id": "WO-1", "state": state, "town_code": XINTANG, "centre_code": XINTANG, "report_due": DUE,
        "previous": CAME_FROM.get(state),
        "pending_extension": timedelta(hours=6) if state is S.EXTENSION_REQUESTED else None,
        "generation": 3,
    }
    return Order(**{**fields, **changes})


def command(action: Action, actor: Actor = ADMIN, at: datetime = T0, **changes) -> Command:
    return Command(action, actor, at, **{**VALID_ARGS.get(action, {}), **changes})


def accepted(result: Accepted | Rejected) -> Accepted:
    assert isinstance(result, Accepted), result
    return result


def refused(result: Accepted | Rejected, code: RejectionCode) -> str:
    assert isinstance(result, Rejected), result
    assert result.rejection.code is code, result.rejection
    return result.rejection.reason


# --- the table --------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(State))
def test_every_state_and_action(state: State, action: Action):
    before = order(state)
    result = decide(before, command(action), RULES)
    target = TRANSITIONS.get((state, action))
    if target is None:
        reason = refused(result, C.ILLEGAL_TRANSITION)
        assert reason == f"cannot {action} an order that is {state} ({STATE_TERMS[state]})"
        rejection = result.rejection
        assert (rejection.order_id, rejection.action, rejection.state, rejection.actor, rejection.at) == (
            "WO-1", action, state, ADMIN, T0)
        return
    after = accepted(result).order
    expected = {PREVIOUS: before.previous, BY_CALLBACK: S.REOPENED}.get(target, target)  # VALID_ARGS: unsatisfied
    assert after.state is expected
    event = result.event
    assert (event.order_id, event.action, event.from_state, event.to_state, event.at, event.actor) == (
        "WO-1", action, state, expected, T0, ADMIN)
    assert event.generation == after.generation


def test_table_shape():
    assert len(TRANSITIONS) == 30
    assert not [key for key in TRANSITIONS if key[0] in TERMINAL]
    assert [a for (s, a) in TRANSITIONS if s is S.CLOSED] == [A.RECORD_CALLBACK]
    withdrawable = {s for (s, a) in TRANSITIONS if a is A.WITHDRAW}
    assert withdrawable == set(State) - TERMINAL - {S.CLOSED}
    assert {s for (s, a) in TRANSITIONS if a is A.MERGE} == {S.DISPATCHED, S.ACKNOWLEDGED}
    assert {s for (s, a) in TRANSITIONS if a is A.TRANSFER} == {S.DISPATCHED, S.ACKNOWLEDGED, S.REOPENED}
    assert {s for (s, a) in TRANSITIONS if a is A.REQUEST_EXTENSION} == {S.ACKNOWLEDGED, S.REOPENED}
    assert {s for (s, a) in TRANSITIONS if a is A.PARK} == {S.ACKNOWLEDGED, S.REOPENED}
    assert set(STATE_TERMS) == set(State) and set(ACTION_TERMS) == set(Action) and set(ALLOWED_ROLES) == set(Action)


def test_the_reason_names_state_and_command():
    reason = refused(decide(order(S.CLOSED), command(A.ACKNOWLEDGE, OPERATOR), RULES), C.ILLEGAL_TRANSITION)
    assert reason == "cannot acknowledge an order that is closed (办结)"


# --- who may do what ----------------------------------------------------------------------------------

# Written out independently of ALLOWED_ROLES: x may, . may not.
ROLE_MATRIX = """
action             town_operator town_leader integration district_dispatcher district_supervisor admin
acknowledge        x             x           x           .                   .                   x
report             x             x           x           .                   .                   x
request_return     x             x           x           .                   .                   x
request_extension  x             x           x           .                   .                   x
approve_report     .             .           .           x                   x                   x
reject_report      .             .           .           x                   x                   x
record_callback    .             .           .           x                   x                   x
withdraw           .             .           .           x                   x                   x
approve_return     .             .           .           x                   .                   x
reject_return      .             .           .           x                   .                   x
transfer           .             .           .           x                   .                   x
merge              .             .           .           x                   .                   x
approve_extension  .             .           .           .                   x                   x
refuse_extension   .             .           .           .                   x                   x
park               .             .           .           .                   x                   x
unpark             .             .           .           .                   x                   x
"""


def _role_cases():
    header, *rows = ROLE_MATRIX.strip().splitlines()
    roles = [Role(name) for name in header.split()[1:]]
    for row in rows:
        action, *marks = row.split()
        for role, mark in zip(roles, marks, strict=True):
            yield pytest.param(Action(action), role, mark == "x", id=f"{action}-{role}")


# A state in which each action is legal, so only the role decides.
LEGAL_IN = {
    A.ACKNOWLEDGE: S.DISPATCHED, A.REPORT: S.ACKNOWLEDGED, A.REQUEST_RETURN: S.ACKNOWLEDGED,
    A.REQUEST_EXTENSION: S.ACKNOWLEDGED, A.APPROVE_REPORT: S.REPORTED, A.REJECT_REPORT: S.REPORTED,
    A.RECORD_CALLBACK: S.CLOSED, A.WITHDRAW: S.ACKNOWLEDGED, A.APPROVE_RETURN: S.RETURN_REQUESTED,
    A.REJECT_RETURN: S.RETURN_REQUESTED, A.TRANSFER: S.ACKNOWLEDGED, A.MERGE: S.DISPATCHED,
    A.APPROVE_EXTENSION: S.EXTENSION_REQUESTED, A.REFUSE_EXTENSION: S.EXTENSION_REQUESTED, A.PARK: S.ACKNOWLEDGED,
    A.UNPARK: S.PARKED,
}


@pytest.mark.parametrize(("action", "role", "allowed"), list(_role_cases()))
def test_roles(action: Action, role: Role, allowed: bool):
    actor = Actor("u-1", role, XINTANG if role in (R.TOWN_OPERATOR, R.TOWN_LEADER, R.INTEGRATION) else DISTRICT)
    result = decide(order(LEGAL_IN[action]), command(action, actor), RULES)
    if allowed:
        accepted(result)
    else:
        assert refused(result, C.ROLE_NOT_ALLOWED) == f"role {role} may not {action} ({ACTION_TERMS[action]})"


TOWNS = [
    # (actor, action, state, accepted)
    pytest.param(Actor("op-1", R.TOWN_OPERATOR, XINTANG), A.ACKNOWLEDGE, S.DISPATCHED, True, id="operator-own-town"),
    pytest.param(Actor("op-2", R.TOWN_OPERATOR, GUALI), A.ACKNOWLEDGE, S.DISPATCHED, False, id="operator-other-town"),
    pytest.param(Actor("ld-2", R.TOWN_LEADER, GUALI), A.REPORT, S.ACKNOWLEDGED, False, id="leader-other-town"),
    pytest.param(Actor("sys-1", R.INTEGRATION, XINTANG), A.REPORT, S.ACKNOWLEDGED, True, id="integration-own-town"),
    pytest.param(Actor("sys-2", R.INTEGRATION, GUALI), A.REQUEST_RETURN, S.DISPATCHED, False, id="integration-other-town"),
    pytest.param(Actor("op-2", R.TOWN_OPERATOR, DISTRICT), A.ACKNOWLEDGE, S.DISPATCHED, False, id="operator-of-district-unit"),
    pytest.param(Actor("disp-2", R.DISTRICT_DISPATCHER, GUALI), A.TRANSFER, S.DISPATCHED, True, id="district-role-any-unit"),
    pytest.param(Actor("adm-2", R.ADMIN, GUALI), A.ACKNOWLEDGE, S.DISPATCHED, True, id="admin-any-unit"),
]


@pytest.mark.parametrize(("actor", "action", "state", "ok"), TOWNS)
def test_town_scope(actor: Actor, action: Action, state: State, ok: bool):
    result = decide(order(state), command(action, actor), RULES)
    if ok:
        accepted(result)
    else:
        reason = refused(result, C.OTHER_TOWN)
        assert reason == f"cannot {action} an order of another town: {actor.user_id} acts for {actor.unit_code}"


def test_town_scope_is_checked_before_the_state():
    """Another town learns nothing of the order: not its state, not its town."""
    stranger = Actor("op-2", R.TOWN_OPERATOR, GUALI)
    reason = refused(decide(order(S.CLOSED), command(A.ACKNOWLEDGE, stranger), RULES), C.OTHER_TOWN)
    assert "closed" not in reason and XINTANG not in reason


# --- guards ---------------------------------------------------------------------------------------------

GUARDS = [
    # (order changes, action, command changes, refusal or None for accepted)
    pytest.param({"returns": 1}, A.REQUEST_RETURN, {}, None, id="return-under-cap"),
    pytest.param({"returns": 2}, A.REQUEST_RETURN, {}, C.RETURN_CAP_REACHED, id="return-cap-reached"),
    pytest.param({"returns": 5}, A.REQUEST_RETURN, {}, C.RETURN_CAP_REACHED, id="return-over-cap"),
    pytest.param({}, A.REQUEST_RETURN, {"reason_code": "R02"}, None, id="return-known-reason"),
    pytest.param({}, A.REQUEST_RETURN, {"reason_code": "R99"}, C.UNKNOWN_REASON_CODE, id="return-unknown-reason"),
    pytest.param({}, A.REQUEST_RETURN, {"reason_code": None}, C.UNKNOWN_REASON_CODE, id="return-without-reason"),
    pytest.param({}, A.REQUEST_EXTENSION, {"at": DUE - timedelta(seconds=1)}, None, id="extension-just-before-deadline"),
    pytest.param({}, A.REQUEST_EXTENSION, {"at": DUE}, C.EXTENSION_AFTER_DEADLINE, id="extension-at-deadline"),
    pytest.param({}, A.REQUEST_EXTENSION, {"at": DUE + timedelta(hours=1)}, C.EXTENSION_AFTER_DEADLINE, id="extension-after-deadline"),
    pytest.param({"report_due": None}, A.REQUEST_EXTENSION, {}, C.NO_REPORT_DEADLINE, id="extension-without-deadline"),
    pytest.param({}, A.REQUEST_EXTENSION, {"extension": None}, C.INVALID_EXTENSION, id="extension-missing"),
    pytest.param({}, A.REQUEST_EXTENSION, {"extension": timedelta(0)}, C.INVALID_EXTENSION, id="extension-zero"),
    pytest.param({}, A.REQUEST_EXTENSION, {"extension": timedelta(hours=-2)}, C.INVALID_EXTENSION, id="extension-negative"),
    pytest.param({}, A.TRANSFER, {"target_town": None}, C.MISSING_TARGET, id="transfer-without-town"),
    pytest.param({}, A.TRANSFER, {"target_centre": None}, C.MISSING_TARGET, id="transfer-without-centre"),
    pytest.param({}, A.TRANSFER, {"target_town": XINTANG}, C.SAME_TOWN, id="transfer-to-same-town"),
    pytest.param({"state": S.RETURN_REQUESTED}, A.APPROVE_RETURN, {"target_town": None}, C.MISSING_TARGET, id="reassign-without-town"),
    pytest.param({"state": S.RETURN_REQUESTED}, A.APPROVE_RETURN, {"target_town": XINTANG}, C.SAME_TOWN, id="reassign-to-same-town"),
    pytest.param({}, A.MERGE, {"merge_into": None}, C.MISSING_MERGE_TARGET, id="merge-without-target"),
    pytest.param({}, A.MERGE, {"merge_into": "WO-1"}, C.MERGE_INTO_ITSELF, id="merge-into-itself"),
    pytest.param({}, A.TRANSFER, {"target_known": False, "target_centre": None}, C.UNKNOWN_TARGET,
                 id="transfer-to-unknown-town"),
    pytest.param({}, A.MERGE, {"target_known": False}, C.UNKNOWN_TARGET, id="merge-into-unknown-order"),
    *(pytest.param({}, A.MERGE, {"merge_target_state": done}, C.INVALID_MERGE_TARGET, id=f"merge-into-{done}")
      for done in (S.CLOSED, S.WITHDRAWN, S.MERGED)),
    pytest.param({}, A.MERGE, {"merge_target_state": S.REOPENED}, None, id="merge-into-open-order"),
    pytest.param({"state": S.CLOSED}, A.RECORD_CALLBACK, {"satisfied": None}, C.MISSING_SATISFACTION, id="callback-without-outcome"),
]


@pytest.mark.parametrize(("order_changes", "action", "command_changes", "code"), GUARDS)
def test_guards(order_changes: dict, action: Action, command_changes: dict, code: RejectionCode | None):
    state = order_changes.pop("state", S.ACKNOWLEDGED)
    result = decide(order(state, **order_changes), command(action, **command_changes), RULES)
    if code is None:
        accepted(result)
    else:
        refused(result, code)


def test_guard_reasons_say_what_is_wrong():
    def reason(before: Order, cmd: Command) -> str:
        result = decide(before, cmd, RULES)
        assert isinstance(result, Rejected)
        return result.rejection.reason

    assert "returned 2 times (max 2)" in reason(order(S.ACKNOWLEDGED, returns=2), command(A.REQUEST_RETURN))
    assert "'R99'" in reason(order(S.ACKNOWLEDGED), command(A.REQUEST_RETURN, reason_code="R99"))
    assert DUE.isoformat() in reason(order(S.ACKNOWLEDGED), command(A.REQUEST_EXTENSION, at=DUE))
    assert "target town" in reason(order(), command(A.TRANSFER, target_town=None))
    assert "same town 330109004" in reason(order(), command(A.TRANSFER, target_town=XINTANG))
    assert "into itself" in reason(order(), command(A.MERGE, merge_into="WO-1"))


# --- what changes --------------------------------------------------------------------------------------

GENERATIONS = [
    # (state, action, command changes, new generation, report deadline kept)
    pytest.param(S.RETURN_REQUESTED, A.APPROVE_RETURN, {}, True, id="reassign"),
    pytest.param(S.DISPATCHED, A.TRANSFER, {}, True, id="transfer-dispatched"),
    pytest.param(S.REOPENED, A.TRANSFER, {}, True, id="transfer-reopened"),
    pytest.param(S.REPORTED, A.REJECT_REPORT, {}, True, id="review-fails-reopens"),
    pytest.param(S.CLOSED, A.RECORD_CALLBACK, {"satisfied": False}, True, id="unsatisfied-callback-reopens"),
    pytest.param(S.CLOSED, A.RECORD_CALLBACK, {"satisfied": True}, False, id="satisfied-callback"),
    pytest.param(S.DISPATCHED, A.ACKNOWLEDGE, {}, False, id="acknowledge"),
    pytest.param(S.RETURN_REQUESTED, A.REJECT_RETURN, {}, False, id="return-rejected"),
    pytest.param(S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION, {}, False, id="extension-approved"),
    pytest.param(S.ACKNOWLEDGED, A.PARK, {}, False, id="park"),
    pytest.param(S.PARKED, A.UNPARK, {}, False, id="unpark"),
    pytest.param(S.REPORTED, A.APPROVE_REPORT, {}, False, id="close"),
]


@pytest.mark.parametrize(("state", "action", "command_changes", "new_generation"), GENERATIONS)
def test_generation(state: State, action: Action, command_changes: dict, new_generation: bool):
    before = order(state)
    result = accepted(decide(before, command(action, **command_changes), RULES))
    assert result.order.generation == before.generation + new_generation
    assert result.event.generation == result.order.generation
    if new_generation:  # the SLA policy sets the new generation's deadline
        assert result.order.report_due is None
    elif action is not A.APPROVE_EXTENSION:
        assert result.order.report_due == DUE


@pytest.mark.parametrize(("state", "action", "came_from"), [
    pytest.param(S.RETURN_REQUESTED, A.REJECT_RETURN, S.DISPATCHED, id="return-rejected-before-ack"),
    pytest.param(S.RETURN_REQUESTED, A.REJECT_RETURN, S.ACKNOWLEDGED, id="return-rejected-after-ack"),
    pytest.param(S.EXTENSION_REQUESTED, A.REFUSE_EXTENSION, S.ACKNOWLEDGED, id="extension-refused-acknowledged"),
    pytest.param(S.EXTENSION_REQUESTED, A.REFUSE_EXTENSION, S.REOPENED, id="extension-refused-reopened"),
    pytest.param(S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION, S.REOPENED, id="extension-approved-reopened"),
    pytest.param(S.PARKED, A.UNPARK, S.ACKNOWLEDGED, id="unpark-acknowledged"),
    pytest.param(S.PARKED, A.UNPARK, S.REOPENED, id="unpark-reopened"),
])
def test_back_to_previous_state(state: State, action: Action, came_from: State):
    before = order(state, previous=came_from)
    after = accepted(decide(before, command(action), RULES)).order
    assert after.state is came_from
    assert (after.previous, after.pending_extension) == (None, None)
    assert (after.town_code, after.centre_code, after.returns, after.generation) == (XINTANG, XINTANG, 0, 3)


def test_request_then_back_remembers_the_state():
    for start, request, answer in [
        (S.DISPATCHED, A.REQUEST_RETURN, A.REJECT_RETURN),
        (S.REOPENED, A.REQUEST_EXTENSION, A.REFUSE_EXTENSION),
        (S.REOPENED, A.PARK, A.UNPARK),
    ]:
        waiting = accepted(decide(order(start), command(request), RULES)).order
        assert waiting.previous is start
        assert accepted(decide(waiting, command(answer), RULES)).order.state is start


def test_extension_moves_the_deadline_by_the_requested_time():
    requested = accepted(decide(order(S.ACKNOWLEDGED), command(A.REQUEST_EXTENSION, extension=timedelta(hours=36)), RULES))
    assert requested.order.pending_extension == timedelta(hours=36)
    assert requested.order.report_due == DUE
    assert requested.event.detail("extension_s") == 36 * 3600
    approved = accepted(decide(requested.order, command(A.APPROVE_EXTENSION, SUPERVISOR), RULES))
    assert approved.order.report_due == DUE + timedelta(hours=36)
    assert approved.order.state is S.ACKNOWLEDGED
    assert approved.event.detail("new_report_due") == (DUE + timedelta(hours=36)).isoformat()
    refused_ = accepted(decide(requested.order, command(A.REFUSE_EXTENSION, SUPERVISOR), RULES))
    assert refused_.order.report_due == DUE
    assert refused_.order.pending_extension is None


def test_report_while_extension_waits_drops_the_request():
    after = accepted(decide(order(S.EXTENSION_REQUESTED), command(A.REPORT, OPERATOR), RULES)).order
    assert (after.state, after.previous, after.pending_extension, after.report_due) == (S.REPORTED, None, None, DUE)


def test_reassign_counts_the_return_and_moves_the_order():
    result = accepted(decide(order(S.RETURN_REQUESTED, returns=1), command(A.APPROVE_RETURN, DISPATCHER), RULES))
    after = result.order
    assert (after.state, after.town_code, after.centre_code, after.returns) == (S.DISPATCHED, GUALI, GUALI, 2)
    assert dict(result.event.details) == {
        "from_town": XINTANG, "to_town": GUALI, "from_centre": XINTANG, "to_centre": GUALI, "returns": 2}
    capped = decide(order(S.DISPATCHED, town_code=GUALI, centre_code=GUALI, returns=2),
                    command(A.REQUEST_RETURN, Actor("op-2", R.TOWN_OPERATOR, GUALI)), RULES)
    refused(capped, C.RETURN_CAP_REACHED)


def test_transfer_is_not_a_return():
    after = accepted(decide(order(S.ACKNOWLEDGED, returns=1), command(A.TRANSFER, DISPATCHER), RULES)).order
    assert (after.state, after.town_code, after.returns) == (S.DISPATCHED, GUALI, 1)


def test_return_request_carries_reason_and_text():
    result = accepted(decide(order(), command(A.REQUEST_RETURN, OPERATOR, reason_code="R02", text="属供电公司"), RULES))
    assert result.order.state is S.RETURN_REQUESTED
    assert result.event.details == (("reason_code", "R02"), ("text", "属供电公司"))


@pytest.mark.parametrize(("satisfied", "state"), [(True, S.CLOSED), (False, S.REOPENED)])
def test_callback(satisfied: bool, state: State):
    result = accepted(decide(order(S.CLOSED), command(A.RECORD_CALLBACK, DISPATCHER, satisfied=satisfied), RULES))
    assert result.order.state is state
    assert result.event.detail("satisfied") is satisfied
    if not satisfied:  # the town redoes it and reports again
        again = accepted(decide(result.order, command(A.REPORT, OPERATOR), RULES))
        assert again.order.state is S.REPORTED


def test_closed_loop():
    steps = [(A.ACKNOWLEDGE, OPERATOR, S.ACKNOWLEDGED), (A.REPORT, OPERATOR, S.REPORTED),
             (A.REJECT_REPORT, SUPERVISOR, S.REOPENED), (A.REPORT, OPERATOR, S.REPORTED),
             (A.APPROVE_REPORT, SUPERVISOR, S.CLOSED), (A.RECORD_CALLBACK, DISPATCHER, S.REOPENED)]
    current = order(generation=0)
    for action, actor, state in steps:
        current = accepted(decide(current, command(action, actor), RULES)).order
        assert current.state is state
    assert current.generation == 2


@pytest.mark.parametrize("end", sorted(TERMINAL))
def test_terminal_states_accept_nothing(end: State):
    before = order(S.ACKNOWLEDGED)
    finisher = A.MERGE if end is S.MERGED else A.WITHDRAW
    result = accepted(decide(before, command(finisher, DISPATCHER), RULES))
    assert result.order.state is end
    if end is S.MERGED:
        assert result.event.detail("merge_into") == "WO-2"
    for action, actor in itertools.product(Action, [ADMIN, OPERATOR, DISPATCHER, SUPERVISOR]):
        assert isinstance(decide(result.order, command(action, actor), RULES), Rejected)


# --- construction -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    pytest.param({"state": S.RETURN_REQUESTED, "previous": None}, id="request-without-previous"),
    pytest.param({"state": S.PARKED, "previous": S.DISPATCHED}, id="parked-from-dispatched"),
    pytest.param({"state": S.ACKNOWLEDGED, "previous": S.DISPATCHED}, id="previous-outside-request"),
    pytest.param({"state": S.EXTENSION_REQUESTED, "previous": S.ACKNOWLEDGED, "pending_extension": None}, id="request-without-extension"),
    pytest.param({"state": S.ACKNOWLEDGED, "pending_extension": timedelta(hours=1)}, id="extension-outside-request"),
    pytest.param({"state": "dispatched"}, id="state-as-text"),
    pytest.param({"report_due": datetime(2026, 11, 3, 9, 30)}, id="naive-deadline"),
    pytest.param({"returns": -1}, id="negative-returns"),
])
def test_inconsistent_orders_are_bugs(changes: dict):
    state = changes.pop("state", S.DISPATCHED)
    with pytest.raises(ValueError):
        order(state, **changes)


def test_naive_command_time_is_a_bug():
    with pytest.raises(ValueError, match="timezone-aware"):
        Command(A.ACKNOWLEDGE, OPERATOR, datetime(2026, 11, 2, 9, 30))


# --- the document -----------------------------------------------------------------------------------------

def test_docs_show_this_table():
    """docs/lifecycle.md's transition table is this module's table, row for row."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Transitions", 1)[1].split("\n## ", 1)[0]
    rows = {tuple(re.findall(r"`([a-z_]+)`", line)[:3]) for line in section.splitlines() if line.startswith("| `")}
    assert rows == {(str(s), str(a), str(t)) for (s, a), t in TRANSITIONS.items()}
    roles = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    for line in roles.splitlines():
        if line.startswith("| `"):
            action = Action(re.findall(r"`([a-z_]+)`", line)[0])
            cells = [cell.strip() for cell in line.strip("|").split("|")[1:]]
            assert {role for role, cell in zip(Role, cells, strict=True) if cell == "✓"} == ALLOWED_ROLES[action], action
