"""Read models of the 区·镇·村 cockpit (驾驶舱): loop facts per town or village, per month, and the orders behind each.

Every count is of the engine's own records, through the one definition of a dispatch and its facts
(`statistics.dispatches`, `statistics.dispatch_facts`, the 红黄黑榜's): a dispatch belongs to the local
month it began in. Incidents count in the month they were received; key disputes and open orders
are counted as they stand now. A village (村社) is the order's `village_code` (the gazetteer entry
that placed it); an incident's village is that of the order it opened or joined (并单). Orders placed
in no village count under `UNPLACED`. Definitions for people: docs/cockpit.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Connection, Select, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from router.domain.cockpit import UnitFigures, combined
from router.domain.ranking import TownMonth
from router.store.statistics import (
    TOWN_MONTH_FACTS,
    count_of,
    dispatch_facts,
    dispatches,
    month_bounds,
    months_back,
)
from router.store.tables import incidents, key_disputes, order_reports, work_orders
from router.store.views import OPEN_STATES, UNPLACED

COCKPIT_FACTS: tuple[str, ...] = (*TOWN_MONTH_FACTS, "called_back", "satisfied", "breached", "escalated")
INCIDENT_FACTS: tuple[str, ...] = ("received", "diverted")
FIGURES: tuple[str, ...] = (*COCKPIT_FACTS, *INCIDENT_FACTS)  # what a drill-down may ask for
# Open orders' age bands (天), as [from, to) days since the order was opened.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1", 0, 1), ("1-3", 1, 3), ("3-7", 3, 7), ("7-30", 7, 30), ("30+", 30, None))


@dataclass(frozen=True, slots=True)
class Scope:
    """What a cockpit query covers: local months first..last (first days), in `towns`, optionally one village."""

    first: date
    last: date
    zone: tzinfo
    towns: tuple[str, ...]
    village: str | None = None  # a village code, UNPLACED, or None for the whole towns

    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [months_back(self.last, back) for back in range(count, -1, -1)]

    def bounds(self) -> tuple[datetime, datetime]:
        return month_bounds(self.first, self.zone)[0], month_bounds(self.last, self.zone)[1]


def _month_of(column: ColumnElement[datetime], scope: Scope) -> ColumnElement[str]:
    """The local month (YYYY-MM) an instant falls in, among the scope's months: portable SQL, no time zone maths."""
    months = scope.months()
    if len(months) == 1:
        return literal(f"{months[0]:%Y-%m}")
    return case(*((column < month_bounds(m, scope.zone)[1], literal(f"{m:%Y-%m}")) for m in months[:-1]),
                else_=literal(f"{months[-1]:%Y-%m}"))


def _village(column: ColumnElement[str | None]) -> ColumnElement[str]:
    return func.coalesce(column, literal(UNPLACED))


def _in_village(query: Select, scope: Scope, column: ColumnElement[str | None]) -> Select:
    if scope.village is None:
        return query
    return query.where(column.is_(None) if scope.village == UNPLACED else column == scope.village)


TREND_MONTHS = 24  # a trend shows twelve months, each beside the month a year earlier (同比)


@dataclass(frozen=True, slots=True)
class ViewFigures:
    """What one cockpit view shows, by unit (a town, or a village of the town's view) or for the whole scope."""

    period: dict[str, UnitFigures]  # each unit over the scope's months, with its key disputes open now
    current: dict[str, UnitFigures]  # each unit in this month
    trend_months: list[date]  # the 24 months up to the scope's last, oldest first
    by_month: dict[date, UnitFigures]  # the whole scope in each month of the trend that has a record
    open_orders: list[dict]  # `open_orders_by_age`, for a town or a village
    matters: list[dict]  # a village's `matters_by_month`
    repeats: tuple[int, int] | None  # a village's `repeat_callers`
    places: list[dict]  # a village's `repeat_places`


def view_figures(conn: Connection, scope: Scope, code: str, level: str, this_month: date,
                 now: datetime) -> ViewFigures:
    """The figures of the view of unit `code` at `level` (district, town or village).

    The period, this month and the trend are folded out of one count per month (a dispatch and an
    incident each belong to one month, so months add up), not three passes over the same dispatches
    (issue 13: a district's year in well under a second)."""
    by_village = level == "town"
    trend_months = [months_back(scope.last, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    span = Scope(min(scope.first, trend_months[0]), scope.last, scope.zone, scope.towns, scope.village)
    if span.first <= this_month <= months_back(scope.last, -1):
        span = replace(span, last=max(scope.last, this_month))
    monthly = monthly_figures(conn, span, by_village)
    if not span.first <= this_month <= span.last:  # an old period: this month is counted apart
        monthly |= monthly_figures(conn, replace(scope, first=this_month, last=this_month), by_village)
    disputes = _open_disputes(conn, scope, by_village)
    period = _by_unit(monthly, {f"{m:%Y-%m}" for m in scope.months()})
    for code, count in disputes.items():
        period[code] = replace(period.get(code) or UnitFigures(TownMonth(code)), open_disputes=count)
    by_month = {}
    for month in trend_months:
        parts = [f for (m, _), f in monthly.items() if m == f"{month:%Y-%m}"]
        if parts:
            by_month[month] = combined(code, parts)
    village = level == "village"
    return ViewFigures(
        period=period, current=_by_unit(monthly, {f"{this_month:%Y-%m}"}), trend_months=trend_months,
        by_month=by_month, open_orders=open_orders_by_age(conn, scope, now) if level != "district" else [],
        matters=matters_by_month(conn, scope) if village else [],
        repeats=repeat_callers(conn, scope) if village else None,
        places=repeat_places(conn, scope) if village else [])


def _by_unit(monthly: dict[tuple[str, str], UnitFigures], months: set[str]) -> dict[str, UnitFigures]:
    parts: dict[str, list[UnitFigures]] = defaultdict(list)
    for (month, code), found in monthly.items():
        if month in months:
            parts[code].append(found)
    return {code: combined(code, found) for code, found in parts.items()}


def monthly_figures(conn: Connection, scope: Scope, by_village: bool) -> dict[tuple[str, str], UnitFigures]:
    """Each unit's figures in each month of the scope, keyed by (month YYYY-MM, unit code):
    the unit is the town, or with `by_village` the village within it. Units without any record are absent.
    Key disputes are not period figures: `view_figures` adds them."""
    loop = _loop_counts(conn, scope, by_village)
    received = _incident_counts(conn, scope, by_village)
    found = {}
    for key in {*loop, *received}:
        counts = loop.get(key, {})
        found[key] = UnitFigures(
            TownMonth(key[1], **{name: counts.get(name, 0) for name in TOWN_MONTH_FACTS}),
            **received.get(key, {}), **{name: counts.get(name, 0) for name in COCKPIT_FACTS[len(TOWN_MONTH_FACTS):]})
    return found


def _loop_counts(conn: Connection, scope: Scope, by_village: bool) -> dict:
    segment = dispatches(*scope.bounds(), scope.towns)
    facts = dispatch_facts(segment)
    unit = _village(work_orders.c.village_code) if by_village else segment.c.unit_code
    month = _month_of(segment.c.from_at, scope)
    query = (select(month.label("month"), unit.label("unit"),
                    *(count_of(facts[name]).label(name) for name in COCKPIT_FACTS))
             .select_from(segment.join(work_orders, work_orders.c.order_id == segment.c.order_id))
             .group_by(month, unit))
    query = _in_village(query, scope, work_orders.c.village_code)
    return {(row.month, row.unit): {name: int(row._mapping[name]) for name in COCKPIT_FACTS}
            for row in conn.execute(query)}


def _incidents(scope: Scope) -> Select:
    start, end = scope.bounds()
    query = (select(incidents.c.incident_id, incidents.c.order_id, incidents.c.town_code, incidents.c.received_at,
                    incidents.c.outcome, work_orders.c.village_code)
             .outerjoin(work_orders, work_orders.c.order_id == incidents.c.order_id)
             .where(incidents.c.received_at >= start, incidents.c.received_at < end,
                    incidents.c.town_code.in_(list(scope.towns))))
    return _in_village(query, scope, work_orders.c.village_code)


def _incident_counts(conn: Connection, scope: Scope, by_village: bool) -> dict:
    received = _incidents(scope).subquery("received")
    unit = _village(received.c.village_code) if by_village else received.c.town_code
    month = _month_of(received.c.received_at, scope)
    query = (select(month.label("month"), unit.label("unit"), func.count().label("received"),
                    count_of(received.c.outcome == "work_order").label("diverted"))
             .group_by(month, unit))
    return {(row.month, row.unit): {"received": int(row.received), "diverted": int(row.diverted)}
            for row in conn.execute(query)}


def _open_disputes(conn: Connection, scope: Scope, by_village: bool) -> dict[str, int]:
    unit = _village(work_orders.c.village_code) if by_village else work_orders.c.town_code
    query = (select(unit.label("unit"), func.count().label("disputes")).select_from(key_disputes)
             .join(work_orders, work_orders.c.order_id == key_disputes.c.order_id)
             .where(work_orders.c.town_code.in_(list(scope.towns)), work_orders.c.state.in_(OPEN_STATES))
             .group_by(unit))
    query = _in_village(query, scope, work_orders.c.village_code)
    return {row.unit: int(row.disputes) for row in conn.execute(query)}


def orders_behind(scope: Scope, figure: str) -> Select:
    """The ids of the orders a figure counted (a dispatch fact, `received`, `diverted` or `open_disputes`):
    what the order list shows when a cockpit figure is drilled into."""
    if figure in INCIDENT_FACTS:
        received = _incidents(scope).subquery("received")
        query = select(received.c.order_id).where(received.c.order_id.is_not(None))
        return query if figure == "received" else query.where(received.c.outcome == "work_order")
    if figure == "open_disputes":
        query = (select(key_disputes.c.order_id).join(work_orders, work_orders.c.order_id == key_disputes.c.order_id)
                 .where(work_orders.c.town_code.in_(list(scope.towns)), work_orders.c.state.in_(OPEN_STATES)))
        return _in_village(query, scope, work_orders.c.village_code)
    if figure not in COCKPIT_FACTS:
        raise ValueError(f"no cockpit figure {figure!r}")
    segment = dispatches(*scope.bounds(), scope.towns)
    condition = dispatch_facts(segment)[figure]
    query = (select(segment.c.order_id)
             .select_from(segment.join(work_orders, work_orders.c.order_id == segment.c.order_id)))
    if condition is not None:
        query = query.where(condition)
    return _in_village(query, scope, work_orders.c.village_code)


def open_orders_by_age(conn: Connection, scope: Scope, now: datetime) -> list[dict]:
    """The scope's orders open now, counted by state and age band (days since opened), as they stand."""
    age = case(*((work_orders.c.opened_at > now - timedelta(days=upper), literal(name))
                 for name, _, upper in AGE_BANDS if upper is not None), else_=literal(AGE_BANDS[-1][0]))
    query = (select(work_orders.c.state, age.label("band"), func.count().label("orders"))
             .where(work_orders.c.town_code.in_(list(scope.towns)), work_orders.c.state.in_(OPEN_STATES))
             .group_by(work_orders.c.state, age))
    query = _in_village(query, scope, work_orders.c.village_code)
    return [{"state": row.state, "band": row.band, "orders": int(row.orders)} for row in conn.execute(query)]


def _orders_opened(scope: Scope) -> Select:
    start, end = scope.bounds()
    query = select(work_orders).where(work_orders.c.town_code.in_(list(scope.towns)),
                                      work_orders.c.opened_at >= start, work_orders.c.opened_at < end)
    return _in_village(query, scope, work_orders.c.village_code)


def matters_by_month(conn: Connection, scope: Scope) -> list[dict]:
    """Orders opened and incidents behind them (报警次数) per local month and matter type (事项类型)."""
    opened = _orders_opened(scope).subquery("opened")
    month = _month_of(opened.c.opened_at, scope)
    query = (select(month.label("month"), opened.c.matter_type, func.count().label("orders"),
                    func.sum(opened.c.reports).label("incidents"))
             .group_by(month, opened.c.matter_type).order_by(month, opened.c.matter_type))
    return [{"month": row.month, "matter_type": row.matter_type, "orders": int(row.orders),
             "incidents": int(row.incidents or 0)} for row in conn.execute(query)]


def repeat_callers(conn: Connection, scope: Scope) -> tuple[int, int]:
    """(callers who reported more than once about the scope's orders opened in the period, their reports):
    counted by phone number, which never leaves this function."""
    opened = _orders_opened(scope).subquery("opened")
    phone = order_reports.c.caller["phone"].as_string()
    per_caller = (select(phone.label("phone"), func.count().label("reports"))
                  .join(opened, opened.c.order_id == order_reports.c.order_id)
                  .where(phone.is_not(None), phone != "")
                  .group_by(phone).having(func.count() > 1).subquery("repeat"))
    callers, reports = conn.execute(select(func.count(), func.coalesce(func.sum(per_caller.c.reports), 0))).one()
    return int(callers), int(reports)


def repeat_places(conn: Connection, scope: Scope, limit: int = 20) -> list[dict]:
    """Addresses with more than one order opened in the period (重复点位), most orders first."""
    opened = _orders_opened(scope).subquery("opened")
    query = (select(opened.c.address, func.count().label("orders"), func.sum(opened.c.reports).label("incidents"))
             .group_by(opened.c.address).having(func.count() > 1)
             .order_by(func.count().desc(), opened.c.address).limit(limit))
    return [{"address": row.address, "orders": int(row.orders), "incidents": int(row.incidents or 0)}
            for row in conn.execute(query)]
