"""Reads and writes of the closed loop: work orders, their audit trail, SLA timers, holdings."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, insert, literal_column, select, text, update

from router.domain.lifecycle import Order, State
from router.domain.sla import Stage, Timer
from router.store.ledger import row_for_update
from router.store.tables import commands, holdings, order_events, sla_timers, work_orders


def order_for_update(conn: Connection, order_id: str) -> RowMapping | None:
    """The order row, locked until the transaction ends."""
    return row_for_update(conn, work_orders.c.order_id, order_id)


# pg_advisory_xact_lock(classid, objid): the class is Fengqiao's 并单 locks ("FQ" + 1), so they
# never meet another application's advisory locks on the same server.
_MERGE_LOCK_CLASS = 0x4651_0001
_HOLD_IN_ORDER = text(
    "SELECT count(pg_advisory_xact_lock(:class, k)) FROM (SELECT unnest(CAST(:keys AS integer[])) AS k ORDER BY k) s")


def hold_matters(conn: Connection, matters: Iterable[tuple[str, str]]) -> None:
    """Hold, until the transaction ends, the (town, matter type) pairs whose open orders it may repeat.

    并单 across workers: a report can only be merged into an order of its own town and matter
    type, so two batches that could merge into each other's orders share a pair, and the second
    one waits here until the first has committed; its read of the open orders then sees them.
    Locks are taken in one order (sorted keys), so two batches never deadlock. On SQLite (the
    embedded default, one worker) there is nothing to hold.
    """
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(town, matter) for town, matter in matters})
    if keys:
        conn.execute(_HOLD_IN_ORDER, {"class": _MERGE_LOCK_CLASS, "keys": keys})


def _lock_key(town_code: str, matter_type: str) -> int:
    digest = hashlib.blake2b(f"{town_code}|{matter_type}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def orders_by_id(conn: Connection, order_ids: Iterable[str]) -> dict[str, RowMapping]:
    ids = list(set(order_ids))
    if not ids:
        return {}
    return {r.order_id: r._mapping for r in conn.execute(select(work_orders).where(work_orders.c.order_id.in_(ids)))}


def save_order(conn: Connection, order_id: str, values: dict) -> None:
    conn.execute(update(work_orders).where(work_orders.c.order_id == order_id).values(**values))


def earlier_command(conn: Connection, key: str, event_id: str) -> tuple[str, str | None, str | None] | None:
    """(order id, action, actor unit) of the command that used `key`, or None when the key is new.

    Action and unit come from its audit row; a command for an order that did not exist has none.
    """
    row = conn.execute(
        select(commands.c.order_id, order_events.c.kind, order_events.c.actor_unit)
        .outerjoin(order_events, order_events.c.event_id == event_id)
        .where(commands.c.idempotency_key == key)
    ).first()
    return (row.order_id, row.kind, row.actor_unit) if row else None


def remember_command(conn: Connection, key: str, order_id: str, accepted: bool, at: datetime) -> None:
    conn.execute(insert(commands).values(idempotency_key=key, order_id=order_id, accepted=accepted, at=at))


def replace_timers(conn: Connection, order_id: str, stages: Iterable[str], timers: Sequence[dict]) -> None:
    """Cancel the order's pending timers of `stages`, then plan `timers` (a re-planned clock).

    A planned timer whose effect already has a row keeps that row: a cancelled one comes back
    to pending (挂账 then 解除挂账 re-plans the same deadline), a fired one stays fired, so
    every (order, generation, stage, kind, due) effect still happens exactly once.
    """
    stages = list(stages)
    if stages:
        conn.execute(
            update(sla_timers)
            .where(sla_timers.c.order_id == order_id, sla_timers.c.status == "pending", sla_timers.c.stage.in_(stages))
            .values(status="cancelled")
        )
    if not timers:
        return
    key = (sla_timers.c.generation, sla_timers.c.stage, sla_timers.c.kind, sla_timers.c.due_at)
    existing = {(r.generation, r.stage, r.kind, r.due_at): (r.id, r.status)
                for r in conn.execute(select(sla_timers.c.id, sla_timers.c.status, *key)
                                      .where(sla_timers.c.order_id == order_id))}
    fresh, revived = [], []
    for t in timers:
        found = existing.get((t["generation"], t["stage"], t["kind"], t["due_at"]))
        if found is None:
            fresh.append({**t, "status": "pending"})
        elif found[1] == "cancelled":
            revived.append(found[0])
    if revived:
        conn.execute(update(sla_timers).where(sla_timers.c.id.in_(revived)).values(status="pending"))
    if fresh:
        conn.execute(insert(sla_timers), fresh)


# A literal, not a bound parameter: only then can PostgreSQL prove that the partial index
# over pending timers applies.
_PENDING = sla_timers.c.status == literal_column("'pending'")


def any_due(conn: Connection, now: datetime) -> bool:
    query = select(sla_timers.c.id).where(_PENDING, sla_timers.c.due_at <= now).limit(1)
    return conn.execute(query).first() is not None


def claim_due_timers(conn: Connection, now: datetime, limit: int) -> list[RowMapping]:
    """Pending timers due by `now`, oldest first, locked so concurrent sweeps skip them."""
    query = (
        select(sla_timers)
        .where(_PENDING, sla_timers.c.due_at <= now)
        .order_by(sla_timers.c.due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [r._mapping for r in conn.execute(query)]


def settle_timers(conn: Connection, fired: Sequence[int], cancelled: Sequence[int], now: datetime) -> None:
    if fired:
        conn.execute(update(sla_timers).where(sla_timers.c.id.in_(list(fired))).values(status="fired", fired_at=now))
    if cancelled:
        conn.execute(update(sla_timers).where(sla_timers.c.id.in_(list(cancelled))).values(status="cancelled"))


def hand_over(conn: Connection, order_id: str, unit_code: str, at: datetime) -> None:
    """Close the current holding segment and open one for `unit_code` (改派/转派 charge the new unit)."""
    conn.execute(
        update(holdings).where(holdings.c.order_id == order_id, holdings.c.to_at.is_(None)).values(to_at=at)
    )
    conn.execute(insert(holdings).values(order_id=order_id, unit_code=unit_code, from_at=at))


def release(conn: Connection, order_id: str, at: datetime) -> None:
    conn.execute(
        update(holdings).where(holdings.c.order_id == order_id, holdings.c.to_at.is_(None)).values(to_at=at)
    )


def to_order(row: RowMapping) -> Order:
    """The state machine's view of an order row."""
    extension = row["pending_extension_s"]
    return Order(
        order_id=row["order_id"],
        state=State(row["state"]),
        town_code=row["town_code"],
        centre_code=row["centre_code"],
        report_due=row["report_due"],
        returns=row["returns"],
        previous=State(row["previous_state"]) if row["previous_state"] else None,
        pending_extension=timedelta(seconds=extension) if extension else None,
        generation=row["generation"],
        district_run=row["district_run"],
    )


def order_values(order: Order, at: datetime) -> dict:
    """The columns an accepted transition changes."""
    return {
        "state": order.state.value,
        "town_code": order.town_code,
        "centre_code": order.centre_code,
        "district_run": order.district_run,
        "report_due": order.report_due,
        "returns": order.returns,
        "previous_state": order.previous.value if order.previous else None,
        "pending_extension_s": int(order.pending_extension.total_seconds()) if order.pending_extension else None,
        "generation": order.generation,
        "updated_at": at,
    }


def timer_rows(timers: Iterable[Timer]) -> list[dict]:
    return [
        {"order_id": t.order_id, "generation": t.generation, "stage": t.stage.value, "kind": t.kind,
         "due_at": t.due_at, "unit_code": t.unit_code}
        for t in timers
    ]


def to_timer(row: RowMapping) -> Timer:
    return Timer(row["order_id"], row["generation"], Stage(row["stage"]), row["kind"], row["due_at"],
                 row["unit_code"])
