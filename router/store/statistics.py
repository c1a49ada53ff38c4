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

from sqlalchemy import Connection, and_, case, exists, func, or_, select
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
    """The dispatches (派单) to `town_codes` that began in [start, end): order_id, unit_code, from_at and
    `until` (the order's next dispatch, None while the town still answers for it)."""
    later = holdings.alias("later")
    until = (select(func.min(later.c.from_at))
             .where(later.c.order_id == holdings.c.order_id, later.c.from_at > holdings.c.from_at)
             .scalar_subquery())
    return (select(holdings.c.order_id, holdings.c.unit_code, holdings.c.from_at, until.label("until"))
            .where(holdings.c.from_at >= start, holdings.c.from_at < end,
                   holdings.c.unit_code.in_(list(town_codes)))
            .subquery("segment"))


def dispatch_facts(segment: Subquery) -> dict[str, ColumnElement[bool] | None]:
    """What each dispatch of `segment` did, as one SQL condition per fact (None: every dispatch counts).

    The one definition of the loop's facts: the 红黄黑榜 (`TownMonth`, the first twelve) and the
    cockpit (its counts and the orders behind each, router.store.cockpit) read these conditions.
    """

    def did(*actions: Action, to_state: State | None = None) -> ColumnElement[bool]:
        e = order_events.c
        conditions = [e.order_id == segment.c.order_id, e.accepted.is_(True), e.kind.in_([a.value for a in actions]),
                      e.at >= segment.c.from_at, or_(segment.c.until.is_(None), e.at < segment.c.until)]
        if to_state is not None:
            conditions.append(e.to_state == to_state.value)
        return exists().where(*conditions)

    def fired(stage: Stage | None, kind: ColumnElement[bool]) -> ColumnElement[bool]:
        t = sla_timers.c
        conditions = [t.order_id == segment.c.order_id, t.unit_code == segment.c.unit_code, t.status == "fired",
                      kind, t.fired_at >= segment.c.from_at,
                      or_(segment.c.until.is_(None), t.fired_at < segment.c.until)]
        if stage is not None:
            conditions.append(t.stage == stage.value)
        return exists().where(*conditions)

    def breached(stage: Stage) -> ColumnElement[bool]:
        return fired(stage, sla_timers.c.kind == "breach")

    acknowledged = did(Action.ACKNOWLEDGE)
    reported = and_(acknowledged, did(Action.REPORT))
    closed = and_(reported, did(Action.APPROVE_REPORT))
    return {
        "dispatched": None,
        "acknowledged": acknowledged,
        "acknowledged_on_time": and_(acknowledged, ~breached(Stage.ACKNOWLEDGE)),
        "reported": reported,
        "reported_on_time": and_(reported, ~breached(Stage.REPORT)),
        "closed": closed,
        "returned": did(Action.REQUEST_RETURN),
        "reopened": and_(reported, did(Action.REJECT_REPORT, Action.RECORD_CALLBACK, to_state=State.REOPENED)),
        "acknowledge_settled": or_(acknowledged, breached(Stage.ACKNOWLEDGE)),
        "report_settled": and_(acknowledged, or_(reported, breached(Stage.REPORT))),
        "resolve_settled": and_(acknowledged, or_(closed, breached(Stage.RESOLVE))),
        # The cockpit's own, beside the ranking's: 回访 and its outcome, and the SLA effects charged.
        "called_back": did(Action.RECORD_CALLBACK),
        "satisfied": did(Action.RECORD_CALLBACK, to_state=State.CLOSED),
        "breached": fired(None, sla_timers.c.kind == "breach"),
        "escalated": fired(None, sla_timers.c.kind.startswith("escalation.")),
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
