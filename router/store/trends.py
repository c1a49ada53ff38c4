"""Monthly counts of incidents (police and not) and of work orders opened, for the monthly report's trends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy import Connection, func, select

from router.store.statistics import month_bounds, months_back
from router.store.tables import incidents, work_orders


@dataclass(frozen=True, slots=True)
class MonthCounts:
    month: date
    police: int
    non_police: int  # routed to a town or waiting for the district (review)
    orders: int


def monthly_counts(conn: Connection, last: date, months: int, zone: tzinfo) -> list[MonthCounts]:
    """The `months` months ending with `last`, oldest first."""
    result = []
    for back in range(months - 1, -1, -1):
        month = months_back(last, back)
        start, end = month_bounds(month, zone)
        i = incidents.c
        police, total = conn.execute(select(func.count().filter(i.outcome == "police"), func.count())
                                     .where(i.received_at >= start, i.received_at < end)).one()
        orders = conn.scalar(select(func.count()).select_from(work_orders)
                             .where(work_orders.c.opened_at >= start, work_orders.c.opened_at < end))
        result.append(MonthCounts(month, int(police or 0), int(total or 0) - int(police or 0), int(orders or 0)))
    return result
