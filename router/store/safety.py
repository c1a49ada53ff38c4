"""Each village's and town's month for the safety index (平安指数), counted from the engine's records.

Incidents (by outcome and priority) and repeat calls from `incident_places`; key disputes flagged
in the month; orders opened in the month and what became of them as of the query: closed now,
ever reopened (重办); callbacks (回访) recorded in the month and how many were unsatisfied.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import Connection, and_, exists, select

from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import Action, State
from router.domain.safety_index import SafetyIndex, UnitMonth, score
from router.store.incident_places import placed_incidents
from router.store.statistics import month_bounds
from router.store.tables import key_disputes, order_events, work_orders


@dataclass(frozen=True, slots=True)
class SafetyMonth:
    month: date
    towns: dict[str, tuple[UnitMonth, SafetyIndex]]
    villages: dict[str, tuple[UnitMonth, SafetyIndex]]  # villages of the towns asked for, quiet ones included


def safety_month(conn: Connection, jurisdiction: Jurisdiction, month: date, zone: tzinfo,
                 town: str | None = None) -> SafetyMonth:
    """The month's index of every town (or only `town`) and of each of their current villages."""
    start, end = month_bounds(month, zone)
    towns = [t.code for t in jurisdiction.towns if town in (None, t.code)]
    village_town = {v.code: v.town_code for v in jurisdiction.villages if not v.retired and v.town_code in towns}
    # UnitMonth's counts, and its non-police incidents by priority, keyed by town and by village code.
    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    priorities: dict[str, Counter[str]] = defaultdict(Counter)

    def units(town_code: str | None, village: str | None) -> list[str]:
        return [c for c in (town_code, village) if c in village_town or (c is not None and c in towns)]

    for p in placed_incidents(conn, start, end, town, jurisdiction.hotspots.cell_metres):
        for u in units(p.town_code, p.village_code):
            if p.outcome == "police":
                tallies[u]["police"] += 1
            else:
                priorities[u][p.priority] += 1
            tallies[u]["repeats"] += p.repeat
    o = work_orders.c
    scoped = [o.town_code.in_(towns)]
    for r in conn.execute(select(o.town_code, o.village_code).join(key_disputes, key_disputes.c.order_id == o.order_id)
                          .where(key_disputes.c.flagged_at >= start, key_disputes.c.flagged_at < end, *scoped)):
        for u in units(r.town_code, r.village_code):
            tallies[u]["disputes"] += 1
    reopened = exists().where(order_events.c.order_id == o.order_id, order_events.c.accepted,
                              order_events.c.to_state == State.REOPENED.value)
    for r in conn.execute(select(o.town_code, o.village_code, o.state, reopened.label("reopened"))
                          .where(o.opened_at >= start, o.opened_at < end, *scoped)):
        for u in units(r.town_code, r.village_code):
            tallies[u]["opened"] += 1
            tallies[u]["closed"] += r.state == State.CLOSED.value
            tallies[u]["reopened"] += bool(r.reopened)
    e = order_events.c
    for r in conn.execute(select(o.town_code, o.village_code, e.details)
                          .join(work_orders, o.order_id == e.order_id)
                          .where(and_(e.kind == Action.RECORD_CALLBACK.value, e.accepted, e.at >= start, e.at < end),
                                 *scoped)):
        for u in units(r.town_code, r.village_code):
            tallies[u]["callbacks"] += 1
            tallies[u]["unsatisfied"] += not (r.details or {}).get("satisfied", False)
    per_town = Counter(village_town.values())
    rules = jurisdiction.safety

    def scored(code: str, villages: int) -> tuple[UnitMonth, SafetyIndex]:
        facts = UnitMonth(code, villages, by_priority=dict(priorities.get(code, {})), **tallies.get(code, {}))
        return facts, score(facts, rules)

    return SafetyMonth(month, {c: scored(c, per_town[c] or 1) for c in towns},
                       {c: scored(c, 1) for c in village_town})
