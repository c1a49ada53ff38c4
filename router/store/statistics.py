"""Each town's month of loop facts (`TownMonth`) for the 红黄黑榜, counted in SQL from the audit trail.

The unit counted is a dispatch (派单): a holding segment (`holdings`) that gave an order to a
town, when it was opened for the town or reassigned (改派) or transferred (转派) to it. A
dispatch belongs to the local month (bundle timezone) in which it began, and it lasts until
the order's next dispatch to another unit (or for ever): a town keeps answering for an order it
closed if a callback reopens it. For each dispatch, from the accepted audit rows
(`order_events`) and the fired SLA timers (`sla_timers`) inside it:

- acknowledged (签收): an `acknowledge`;
- acknowledged on time: acknowledged, and no acknowledge breach fired for the town;
- reported (反馈): acknowledged and a `report`;
- reported on time: reported, and no report breach fired for the town, before or after an
  approved extension or a reopening (the town never missed a 反馈 deadline for this order);
- closed (办结): reported and an `approve_report`, even if a callback later reopened it;
- returned (退单): a `request_return` by the town, whatever the dispatcher then decided;
- reopened (重办): reported, and a `reject_report` or an unsatisfied `record_callback`;
- settled, per stage: done, or its breach fired (its deadline passed). The on-time and resolution
  rates divide by these, so an order not yet due counts neither for nor against a town.

"A breach fired" is what supervisors saw: the sweep fires a breach within a tick of its
deadline, and never for a stage already done. Counts are as of the query: run a month's
report after it ends, since dispatches of its last days may still be settling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime, tzinfo

from sqlalchemy import Connection, Table, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import Action, State
from router.domain.ranking import MonthlyRanking, TownMonth, a_year_earlier, draw
from router.domain.sla import Stage
from router.store.tables import holdings, order_events, sla_timers

# Fengqiao's own era: the 同比 month a year earlier must exist in every time zone, and nothing was
# routed before 2000 (a year-2 month overflowed converting local midnight to UTC).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class MonthOutOfRange(ValueError):
    """A month outside FIRST_YEAR..LAST_YEAR: bad input from the caller (HTTP 422, a CLI usage error)."""


def local_month(now: datetime, zone: tzinfo) -> date:
    """The first day of the month `now` falls in, in `zone` (the bundle's time zone)."""
    local = now.astimezone(zone)
    return date(local.year, local.month, 1)


def months_back(month: date, count: int) -> date:
    """The first day of the month `count` months before `month` (0: that month itself)."""
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The local month containing `month` as [start, end): midnight of its first day to the next's."""
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start, following


def dispatches(start: datetime, end: datetime, town_codes: Sequence[str]) -> Subquery:
    """The dispatches (派单) to `town_codes` that began in [start, end), one row each: order_id, unit_code,
    from_at, `until` (the order's next dispatch, None while the town still answers for it), and what
    happened inside it, 1 or 0: each audit signal of `_DONE` and each fired SLA effect of `_FIRED`.

    Each dispatch is joined once to its accepted audit rows and its fired timers and grouped: one pass
    over each table, not a correlated look-up per dispatch and fact (issue 13: a district's year).
    """
    # Each dispatch's end is grouped out of a self-join, once, in a CTE the signals below read: a
    # correlated `until` is re-evaluated in every join condition that reads it, and its estimated cost
    # alone sends PostgreSQL into seconds of JIT compilation.
    later = holdings.alias("later")
    began = (select(holdings.c.id, holdings.c.order_id, holdings.c.unit_code, holdings.c.from_at,
                    func.min(later.c.from_at).label("until"))
             .select_from(holdings.outerjoin(later, and_(later.c.order_id == holdings.c.order_id,
                                                         later.c.from_at > holdings.c.from_at)))
             .where(holdings.c.from_at >= start, holdings.c.from_at < end,
                    holdings.c.unit_code.in_(list(town_codes)))
             .group_by(holdings.c.id, holdings.c.order_id, holdings.c.unit_code, holdings.c.from_at)
             .cte("began"))

    def inside(at: ColumnElement[datetime]) -> ColumnElement[bool]:
        return and_(at >= began.c.from_at, or_(began.c.until.is_(None), at < began.c.until))

    def signals(table: Table, joined: ColumnElement[bool], seen: dict[str, ColumnElement[bool]]) -> Subquery:
        """Per dispatch (by holding id) with any joined row: 1 or 0 for each of `seen`."""
        return (select(began.c.id, *(func.max(case((c, 1), else_=0)).label(n) for n, c in seen.items()))
                .select_from(began.join(table, joined)).group_by(began.c.id).subquery(table.name))

    e, t = order_events.c, sla_timers.c
    done = {name: and_(e.kind.in_([a.value for a in actions]),
                       *(() if to_state is None else (e.to_state == to_state.value,)))
            for name, (actions, to_state) in _DONE.items()}
    fired = {name: and_(t.kind == "breach", *(() if stage is None else (t.stage == stage.value,)))
             for name, stage in _BREACHES.items()}
    fired["escalated"] = t.kind.startswith("escalation.")
    events = signals(order_events, and_(
        e.order_id == began.c.order_id, e.accepted.is_(True), inside(e.at),
        e.kind.in_(sorted({a.value for actions, _ in _DONE.values() for a in actions}))), done)
    timers = signals(sla_timers, and_(
        t.order_id == began.c.order_id, t.unit_code == began.c.unit_code, t.status == "fired", inside(t.fired_at),
        or_(t.kind == "breach", t.kind.startswith("escalation."))), fired)
    return (select(began.c.order_id, began.c.unit_code, began.c.from_at, began.c.until,
                   *(func.coalesce(events.c[n], 0).label(n) for n in done),
                   *(func.coalesce(timers.c[n], 0).label(n) for n in fired))
            .select_from(began.outerjoin(events, events.c.id == began.c.id)
                         .outerjoin(timers, timers.c.id == began.c.id))
            .subquery("segment"))


# What a dispatch's audit rows may show (the town's or its dispatcher's accepted commands), by signal.
_DONE: dict[str, tuple[tuple[Action, ...], State | None]] = {
    "did_acknowledge": ((Action.ACKNOWLEDGE,), None),
    "did_report": ((Action.REPORT,), None),
    "did_approve": ((Action.APPROVE_REPORT,), None),
    "did_return": ((Action.REQUEST_RETURN,), None),
    "did_reopen": ((Action.REJECT_REPORT, Action.RECORD_CALLBACK), State.REOPENED),
    "did_call_back": ((Action.RECORD_CALLBACK,), None),
    "did_satisfy": ((Action.RECORD_CALLBACK,), State.CLOSED),
}
# The breaches fired for the town inside a dispatch, by stage (None: any stage); escalations beside them.
_BREACHES: dict[str, Stage | None] = {
    "fired_acknowledge": Stage.ACKNOWLEDGE, "fired_report": Stage.REPORT, "fired_resolve": Stage.RESOLVE,
    "fired_breach": None,
}


def dispatch_facts(segment: Subquery) -> dict[str, ColumnElement[bool] | None]:
    """What each dispatch of `segment` (`dispatches`) did, as one SQL condition per fact (None: every
    dispatch counts).

    The one definition of the loop's facts: the 红黄黑榜 (`TownMonth`, the first twelve) and the
    cockpit (its counts and the orders behind each, router.store.cockpit) read these conditions.
    """

    def seen(signal: str) -> ColumnElement[bool]:
        return segment.c[signal] == 1

    acknowledged = seen("did_acknowledge")
    reported = and_(acknowledged, seen("did_report"))
    closed = and_(reported, seen("did_approve"))
    return {
        "dispatched": None,
        "acknowledged": acknowledged,
        "acknowledged_on_time": and_(acknowledged, ~seen("fired_acknowledge")),
        "reported": reported,
        "reported_on_time": and_(reported, ~seen("fired_report")),
        "closed": closed,
        "returned": seen("did_return"),
        "reopened": and_(reported, seen("did_reopen")),
        "acknowledge_settled": or_(acknowledged, seen("fired_acknowledge")),
        "report_settled": and_(acknowledged, or_(reported, seen("fired_report"))),
        "resolve_settled": and_(acknowledged, or_(closed, seen("fired_resolve"))),
        # The cockpit's own, beside the ranking's: 回访 and its outcome, and the SLA effects charged.
        "called_back": seen("did_call_back"),
        "satisfied": seen("did_satisfy"),
        "breached": seen("fired_breach"),
        "escalated": seen("escalated"),
    }


TOWN_MONTH_FACTS: tuple[str, ...] = tuple(f.name for f in fields(TownMonth) if f.name != "town_code")


def count_of(condition: ColumnElement[bool] | None) -> ColumnElement[int]:
    """How many rows meet `condition` (all of them when None), as an aggregate."""
    return func.count() if condition is None else func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def town_months(conn: Connection, month: date, zone: tzinfo, town_codes: Sequence[str]) -> list[TownMonth]:
    """One `TownMonth` per town in `town_codes` (zeros for a town without dispatches), in that order."""
    segment = dispatches(*month_bounds(month, zone), town_codes)
    facts = dispatch_facts(segment)
    query = (select(segment.c.unit_code, *(count_of(facts[name]).label(name) for name in TOWN_MONTH_FACTS))
             .group_by(segment.c.unit_code))
    found = {row.unit_code: TownMonth(row.unit_code, **{name: int(row._mapping[name]) for name in TOWN_MONTH_FACTS})
             for row in conn.execute(query)}
    return [found.get(code) or TownMonth(code) for code in town_codes]


def monthly_ranking(conn: Connection, jurisdiction: Jurisdiction, month: date) -> MonthlyRanking:
    """The 红黄黑榜 of the month containing `month` for every town of the jurisdiction, with 同比 trends.

    Raises MonthOutOfRange (a ValueError) for a month outside FIRST_YEAR..LAST_YEAR, and ValueError
    when the jurisdiction has no ranking rules (a hand-built one without a bundle).
    """
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise MonthOutOfRange(f"month {month:%Y-%m} is outside {FIRST_YEAR}-{LAST_YEAR}")
    if jurisdiction.ranking is None or jurisdiction.loop is None:
        raise ValueError(f"jurisdiction {jurisdiction.name} has no ranking rules")
    zone = jurisdiction.loop.calendar.timezone
    codes = [town.code for town in jurisdiction.towns]
    current = town_months(conn, month, zone, codes)
    earlier = town_months(conn, a_year_earlier(month), zone, codes)
    return draw(month, current, earlier, jurisdiction.ranking)
