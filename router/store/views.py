"""Read models for the API and console: order lists and timelines, deadlines, SLA alerts, town figures.

Every query takes `town`, the caller's scope: a town code for town roles (they see only their
town's orders, and cannot even count another's), None for district roles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, Select, case, func, or_, select

from router.domain.lifecycle import OPEN, State
from router.domain.sla import EFFECT_PREFIX, RUNNING, Stage, running_stage
from router.store.tables import (
    dead_letters,
    incidents,
    key_disputes,
    order_events,
    order_reports,
    review_items,
    sla_timers,
    users,
    work_orders,
)

OPEN_STATES: tuple[str, ...] = tuple(s.value for s in State if s in OPEN)
# The column holding each running stage's deadline (sla.RUNNING): what 仅超时, the 'due' sort, the
# board's 已超时 and the countdowns all read.
UNPLACED = "unplaced"  # the village key of orders placed in no village (未定位村社)
_DUE_COLUMN = {Stage.ACKNOWLEDGE: "acknowledge_due", Stage.REPORT: "report_due"}


def running_due():
    """The deadline of the clock each order races now (NULL when none runs), as SQL."""
    return case(*((work_orders.c.state == state.value, work_orders.c[_DUE_COLUMN[stage]])
                  for state, stage in RUNNING.items()), else_=None)


def running_deadline(row: RowMapping) -> tuple[Stage, datetime | None] | None:
    """The stage an order row races now and its deadline (None when its bundle sets no clock for it),
    or None when no clock runs: the same definition as `running_due`."""
    stage = running_stage(State(row["state"]))
    return None if stage is None else (stage, row[_DUE_COLUMN[stage]])


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What an order list asks for; every field optional."""

    states: Sequence[str] = ()
    town: str | None = None
    matter_type: str | None = None
    overdue: bool = False
    text: str | None = None
    text_in_summary: bool = True  # False for roles that see no callers: a summary search would unmask them
    district_run: bool | None = None  # True: only the orders the district centre runs (区中心代管); False: none of them
    sort: str = "opened"  # opened (newest first) | due (the running clock's deadline first, none last)
    village: str | None = None  # a village (村社) code, or "unplaced" for orders placed in no village
    behind: Select | None = None  # the ids of the orders a cockpit figure counted (router.store.cockpit)


def _scoped(query: Select, town: str | None) -> Select:
    return query.where(work_orders.c.town_code == town) if town else query


def _filtered(query: Select, f: OrderFilter, now: datetime) -> Select:
    if f.states:
        query = query.where(work_orders.c.state.in_(list(f.states)))
    if f.town:
        query = query.where(work_orders.c.town_code == f.town)
    if f.matter_type:
        query = query.where(work_orders.c.matter_type == f.matter_type)
    if f.district_run is not None:
        query = query.where(work_orders.c.district_run.is_(f.district_run))
    if f.village:
        column = work_orders.c.village_code
        query = query.where(column.is_(None) if f.village == UNPLACED else column == f.village)
    if f.behind is not None:
        # Not correlated: the figure's own query reads work_orders too, and must not see the outer row.
        query = query.where(work_orders.c.order_id.in_(f.behind.correlate(None)))
    if f.overdue:
        query = query.where(running_due() < now)
    if f.text:
        fields = [work_orders.c.address.contains(f.text, autoescape=True), work_orders.c.order_id == f.text]
        if f.text_in_summary:
            fields.append(work_orders.c.summary.contains(f.text, autoescape=True))
        query = query.where(or_(*fields))
    return query


def order_page(conn: Connection, f: OrderFilter, now: datetime, limit: int | None,
               offset: int) -> tuple[list[RowMapping], int]:
    """One page of the orders `f` selects (its `town` is the caller's scope) and how many match; no limit: all."""
    base = _filtered(select(work_orders), f, now)
    total = conn.scalar(select(func.count()).select_from(base.subquery()))
    order = ((running_due().is_(None), running_due(), work_orders.c.order_id)
             if f.sort == "due" else (work_orders.c.opened_at.desc(), work_orders.c.order_id.desc()))
    rows = conn.execute(base.order_by(*order).limit(limit).offset(offset))
    return [r._mapping for r in rows], int(total or 0)


def order(conn: Connection, town: str | None, order_id: str) -> RowMapping | None:
    """The order if it exists in scope; an order of another town is as absent as a made-up id."""
    row = conn.execute(_scoped(select(work_orders).where(work_orders.c.order_id == order_id), town)).first()
    return row._mapping if row else None


# PostgreSQL takes at most 65,535 parameters in a statement: long lists (a CSV export) go in chunks.
_CHUNK = 10_000


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    ids = list(ids)
    return (ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK))


def deadlines(conn: Connection, orders: Iterable[RowMapping]) -> dict[str, dict[str, datetime]]:
    """Each order's current breach deadline per stage (acknowledge, report, resolve) still to come."""
    by_generation = {o["order_id"]: o["generation"] for o in orders}
    found: dict[str, dict[str, datetime]] = {}
    for chunk in _chunks(list(by_generation)):
        rows = conn.execute(
            select(sla_timers.c.order_id, sla_timers.c.generation, sla_timers.c.stage, sla_timers.c.due_at)
            .where(sla_timers.c.order_id.in_(chunk), sla_timers.c.kind == "breach", sla_timers.c.status != "cancelled")
        )
        for r in rows:
            if r.generation == by_generation[r.order_id]:
                found.setdefault(r.order_id, {})[r.stage] = r.due_at
    return found


def caller_names(conn: Connection, order_ids: Iterable[str]) -> dict[str, list[str]]:
    """The callers' names behind each order: what masking must hide inside its free text."""
    names: dict[str, list[str]] = {}
    for chunk in _chunks(list(set(order_ids))):
        for r in conn.execute(select(order_reports.c.order_id, order_reports.c.caller)
                              .where(order_reports.c.order_id.in_(chunk))):
            if r.caller and r.caller.get("name"):
                names.setdefault(r.order_id, []).append(r.caller["name"])
    return names


def timeline(conn: Connection, order_id: str) -> list[RowMapping]:
    """The order's audit rows, oldest first, each with the display name of the account that acted (if any)."""
    query = (select(order_events, users.c.display_name.label("actor_name"))
             .outerjoin(users, users.c.user_id == order_events.c.actor_user)
             .where(order_events.c.order_id == order_id).order_by(order_events.c.at, order_events.c.id))
    return [r._mapping for r in conn.execute(query)]


def reports(conn: Connection, order_id: str) -> list[RowMapping]:
    """Every report behind the order (并单), with its caller and the incident's record as the feed sent it:
    personal data, mask before showing."""
    query = (select(order_reports, incidents.c.record)
             .outerjoin(incidents, incidents.c.incident_id == order_reports.c.incident_id)
             .where(order_reports.c.order_id == order_id)
             .order_by(order_reports.c.received_at, order_reports.c.incident_id))
    return [r._mapping for r in conn.execute(query)]


def alerts(conn: Connection, town: str | None, kinds: Sequence[str], since: datetime | None,
           limit: int) -> list[RowMapping]:
    """SLA effects that fired (预警 warnings, 超时 breaches, 催办/督办/通报 escalations), newest first."""
    query = (
        select(order_events.c.order_id, order_events.c.kind, order_events.c.at,
               order_events.c.details, work_orders.c.town_code, work_orders.c.state, work_orders.c.summary,
               work_orders.c.matter_type)
        .join(work_orders, work_orders.c.order_id == order_events.c.order_id)
        .where(order_events.c.kind.like(f"{EFFECT_PREFIX}%"))
        .order_by(order_events.c.id.desc()).limit(limit)
    )
    if kinds:
        query = query.where(or_(*(order_events.c.kind.like(f"{EFFECT_PREFIX}%.{k}%") for k in kinds)))
    if since:
        query = query.where(order_events.c.at >= since)
    return [r._mapping for r in conn.execute(_scoped(query, town))]


def town_figures(conn: Connection, town: str | None, now: datetime, since: datetime) -> list[RowMapping]:
    """Per town: open orders, awaiting 签收, overdue, and SLA breaches and escalations since `since`."""
    is_open = work_orders.c.state.in_(OPEN_STATES)
    orders_q = _scoped(
        select(
            work_orders.c.town_code,
            func.count().label("orders"),
            func.sum(case((is_open, 1), else_=0)).label("open"),
            func.sum(case((work_orders.c.state == State.DISPATCHED.value, 1), else_=0)).label("awaiting_ack"),
            func.sum(case((running_due() < now, 1), else_=0)).label("overdue"),
            func.sum(case((work_orders.c.state == State.CLOSED.value, 1), else_=0)).label("closed"),
        ).group_by(work_orders.c.town_code), town)
    breach = order_events.c.kind.like(f"{EFFECT_PREFIX}%.breach")
    escalation = order_events.c.kind.like(f"{EFFECT_PREFIX}%.escalation%")
    effects_q = _scoped(
        select(
            work_orders.c.town_code,
            func.sum(case((breach, 1), else_=0)).label("breaches"),
            func.sum(case((escalation, 1), else_=0)).label("escalations"),
        ).join(work_orders, work_orders.c.order_id == order_events.c.order_id)
        .where(order_events.c.kind.like(f"{EFFECT_PREFIX}%"), order_events.c.at >= since)
        .group_by(work_orders.c.town_code), town)
    effects = {r.town_code: r for r in conn.execute(effects_q)}
    figures = []
    for r in conn.execute(orders_q.order_by(work_orders.c.town_code)):
        e = effects.get(r.town_code)
        figures.append({**r._mapping, "breaches": int(e.breaches) if e else 0,
                        "escalations": int(e.escalations) if e else 0})
    return figures


def disputes(conn: Connection, town: str | None) -> list[RowMapping]:
    """重点矛盾纠纷 with the state of their order, soonest resolution deadline first.

    The town is the order's current one: `key_disputes.town_code` is where it was flagged, and a
    dispute reassigned (改派/转派) since belongs to the town that holds the order now.
    """
    query = (select(*(c for c in key_disputes.c if c.name != "town_code"), work_orders.c.town_code,
                    work_orders.c.state, work_orders.c.summary, work_orders.c.address)
             .join(work_orders, work_orders.c.order_id == key_disputes.c.order_id)
             .order_by(key_disputes.c.resolution_due))
    return [r._mapping for r in conn.execute(_scoped(query, town))]


def scope_version(conn: Connection, town: str | None) -> tuple[int, str]:
    """(orders in scope, an opaque version): the version changes whenever a console in scope should refresh.

    Opening an order writes no audit row (the intake's outbox event says it), hence the count. The
    newest audit id is hashed: its raw value would tell a town how busy the other towns are.
    """
    count = conn.scalar(_scoped(select(func.count()).select_from(work_orders), town))
    last = conn.scalar(_scoped(select(func.max(order_events.c.id))
                               .join(work_orders, work_orders.c.order_id == order_events.c.order_id), town))
    # The district's consoles also show what waits in its inbox (待定位, 死信).
    inbox = "" if town is not None else ":".join(str(v) for v in inbox_summary(conn).values())
    return int(count or 0), hashlib.sha256(f"{count}:{last}:{inbox}".encode()).hexdigest()[:16]


def dead_letter_list(conn: Connection, limit: int) -> list[RowMapping]:
    """Feed records that could not be read, newest first: why, and where they came from. Never the
    payload, which may hold a caller's name and phone."""
    query = (select(dead_letters.c.fingerprint, dead_letters.c.reason, dead_letters.c.detail,
                    dead_letters.c.source_topic, dead_letters.c.partition, dead_letters.c.offset, dead_letters.c.size,
                    dead_letters.c.dead_lettered_at, dead_letters.c.redriven_at, dead_letters.c.redriven_by,
                    dead_letters.c.redrives)
             .order_by(dead_letters.c.dead_lettered_at.desc(), dead_letters.c.fingerprint).limit(limit))
    return [r._mapping for r in conn.execute(query)]


def review_list(conn: Connection, states: Sequence[str], limit: int) -> list[RowMapping]:
    """Incidents waiting for the district to place them (待定位), oldest first, each with its decision
    and the record as received (personal data: mask before showing)."""
    query = (select(review_items, incidents.c.decision, incidents.c.record, incidents.c.matter_type)
             .join(incidents, incidents.c.incident_id == review_items.c.incident_id)
             .where(review_items.c.state.in_(list(states)))
             .order_by(review_items.c.queued_at, review_items.c.review_id).limit(limit))
    return [r._mapping for r in conn.execute(query)]


def inbox_summary(conn: Connection) -> dict[str, object]:
    """How many review items and dead letters wait for the district, and the oldest of each."""
    reviews = conn.execute(select(func.count(), func.min(review_items.c.queued_at))
                           .where(review_items.c.state == "open")).one()
    letters = conn.execute(select(func.count(), func.min(dead_letters.c.dead_lettered_at))
                           .where(dead_letters.c.redriven_at.is_(None))).one()
    return {"reviews_waiting": reviews[0], "review_oldest_at": reviews[1],
            "dead_letters_waiting": letters[0], "dead_letter_oldest_at": letters[1]}
