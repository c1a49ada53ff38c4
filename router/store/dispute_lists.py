"""The monthly key-dispute lists (重点矛盾纠纷清单) as stored: issuing a month's list, assigning, reading it back.

A dispute is resolved (化解) when its order is closed now, at the time of its last accepted
closing event; see router.domain.dispute_list for which disputes a month's list carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import Connection, RowMapping, case, func, insert, select, update

from router.domain.dispute_list import ListedDispute, belongs
from router.domain.lifecycle import State
from router.store.statistics import month_bounds, months_back
from router.store.tables import dispute_listings, key_disputes, order_events, work_orders

_ASSIGNED = ("responsible_leader", "responsible_unit", "responsible_person", "resolution_due")


class NotListed(LookupError):
    """The dispute is not on that month's list (or the list was not issued)."""


def _resolved_at():
    """When each order last closed, if it is closed now (SQL)."""
    e = order_events.c
    closed = (select(func.max(e.at)).where(e.order_id == work_orders.c.order_id, e.accepted,
                                          e.to_state == State.CLOSED.value).scalar_subquery())
    return case((work_orders.c.state == State.CLOSED.value, closed), else_=None)


def _label(month: date) -> str:
    return f"{month:%Y-%m}"


def issue(conn: Connection, month: date, zone: tzinfo, by: str, now: datetime) -> int:
    """Issue (or top up) the month's list: every dispute that belongs on it and is not on it yet; how many
    were added. A dispute on last month's list is carried over with its assignments; a new one takes those
    the dispute was flagged with."""
    start, end = month_bounds(month, zone)
    label, previous = _label(month), _label(months_back(month, 1))
    listed = set(conn.scalars(select(dispute_listings.c.order_id).where(dispute_listings.c.month == label)))
    before = {r.order_id: r._mapping for r in conn.execute(select(dispute_listings)
                                                           .where(dispute_listings.c.month == previous))}
    k = key_disputes.c
    rows = conn.execute(select(k.order_id, k.flagged_at, *(k[c] for c in _ASSIGNED), work_orders.c.town_code,
                               _resolved_at().label("resolved_at"))
                        .join(work_orders, work_orders.c.order_id == k.order_id).where(k.flagged_at < end))
    added = []
    for r in rows:
        if r.order_id in listed or not belongs(r.flagged_at, r.resolved_at, start, end):
            continue
        carried = before.get(r.order_id)
        source = carried if carried is not None else r._mapping
        added.append({"month": label, "order_id": r.order_id, "town_code": r.town_code,
                      "carried_over": carried is not None, **{c: source[c] for c in _ASSIGNED},
                      "issued_at": now, "issued_by": by})
    if added:
        conn.execute(insert(dispute_listings), added)
    return len(added)


def assign(conn: Connection, month: date, order_id: str, assignment: dict[str, object]) -> None:
    """Set a listed dispute's 包案领导, unit, person and deadline; the dispute keeps them for later lists."""
    d = dispute_listings.c
    changed = conn.execute(update(dispute_listings).where(d.month == _label(month), d.order_id == order_id)
                           .values(**assignment)).rowcount
    if not changed:
        raise NotListed(order_id)
    conn.execute(update(key_disputes).where(key_disputes.c.order_id == order_id).values(**assignment))


@dataclass(frozen=True, slots=True)
class Listing:
    issued: bool
    rows: list[RowMapping]  # listing columns, the order's state, summary, matter type and reports, resolved_at

    def disputes(self) -> list[ListedDispute]:
        return [ListedDispute(r["order_id"], r["town_code"], r["resolved_at"]) for r in self.rows]


def listing(conn: Connection, month: date, town: str | None) -> Listing:
    """The month's list as issued, by town then deadline; `town` limits it to one town's disputes."""
    d, o = dispute_listings.c, work_orders.c
    query = (select(*d, o.state, o.summary, o.matter_type, key_disputes.c.reports,
                    _resolved_at().label("resolved_at"))
             .join(work_orders, o.order_id == d.order_id)
             .join(key_disputes, key_disputes.c.order_id == d.order_id)
             .where(d.month == _label(month)).order_by(d.town_code, d.resolution_due, d.order_id))
    if town is not None:
        query = query.where(d.town_code == town)
    rows = [r._mapping for r in conn.execute(query)]
    issued = bool(rows) or conn.scalar(select(func.count()).select_from(dispute_listings)
                                       .where(d.month == _label(month))) > 0
    return Listing(issued, rows)
