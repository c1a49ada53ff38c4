"""Reads and writes of the routing ledger: incidents, work orders, review items, dead letters, outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Column, Connection, RowMapping, Table, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from router.store.tables import (
    dead_letters,
    holdings,
    incidents,
    key_disputes,
    notifications,
    order_events,
    order_reports,
    outbox,
    review_items,
    sla_timers,
    work_orders,
)


def known_incidents(conn: Connection, ids: Iterable[str]) -> set[str]:
    ids = list(ids)
    if not ids:
        return set()
    return set(conn.scalars(select(incidents.c.incident_id).where(incidents.c.incident_id.in_(ids))))


def dead_letter_redrives(conn: Connection, fingerprints: Iterable[str]) -> dict[str, tuple[int, bool]]:
    """The dead letters among `fingerprints`: how often each was re-driven, and whether it is re-driven now."""
    fingerprints = list(fingerprints)
    if not fingerprints:
        return {}
    query = (select(dead_letters.c.fingerprint, dead_letters.c.redrives, dead_letters.c.redriven_at)
             .where(dead_letters.c.fingerprint.in_(fingerprints)))
    return {r.fingerprint: (r.redrives, r.redriven_at is not None) for r in conn.execute(query)}


def forget_dead_letters(conn: Connection, fingerprints: Sequence[str]) -> None:
    """Drop re-driven dead letters that are unreadable again, before their new rows are added."""
    if fingerprints:
        conn.execute(delete(dead_letters).where(dead_letters.c.fingerprint.in_(list(fingerprints))))


def row_for_update(conn: Connection, key: Column, value: object) -> RowMapping | None:
    """The row of `key`'s table whose `key` is `value`, locked until the transaction ends (PostgreSQL;
    SQLite serialises writers)."""
    query = select(key.table).where(key == value)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return row._mapping if row else None


def dead_letter_for_update(conn: Connection, fingerprint: str) -> RowMapping | None:
    return row_for_update(conn, dead_letters.c.fingerprint, fingerprint)


def mark_redriven(conn: Connection, fingerprint: str, user_id: str, now: datetime) -> None:
    conn.execute(update(dead_letters).where(dead_letters.c.fingerprint == fingerprint)
                 .values(redriven_at=now, redriven_by=user_id, redrives=dead_letters.c.redrives + 1))


def known_events(conn: Connection, event_ids: Iterable[str]) -> set[str]:
    """Which of `event_ids` the outbox already holds."""
    event_ids = list(event_ids)
    if not event_ids:
        return set()
    return set(conn.scalars(select(outbox.c.event_id).where(outbox.c.event_id.in_(event_ids))))


_PARENTS_FIRST = (incidents, work_orders, holdings, order_reports, sla_timers, key_disputes, order_events,
                  review_items, dead_letters, outbox, notifications)


def add_rows(conn: Connection, rows: dict[str, list[dict]]) -> None:
    """Insert rows per table name, parents before children, in the caller's transaction."""
    copy = conn.dialect.name == "postgresql"
    for table in _PARENTS_FIRST:
        batch = rows.get(table.name)
        if not batch:
            continue
        if copy:
            _copy_rows(conn, table, batch)
        else:
            conn.execute(insert(table), batch)


_processors: dict[tuple[str, tuple[str, ...]], list] = {}


def _copy_rows(conn: Connection, table: Table, batch: list[dict]) -> None:
    """COPY instead of an INSERT per row: a batch is ~12 rows per feed record (timers, outbox, audit),
    and PostgreSQL parses, plans and executes each INSERT of an executemany on its own.

    Values go through the same SQLAlchemy bind processing as an INSERT would (UTC times, JSON), and
    a column a row leaves out gets its server default, as it would; every row of a table must name
    the same columns, which the staging code does.
    """
    names = tuple(batch[0])
    key = (table.name, names)
    processors = _processors.get(key)
    if processors is None:
        processors = [table.c[n].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for n in names]
        _processors[key] = processors
    columns = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    statement = f"COPY {table.name} ({columns}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with cursor.copy(statement) as copy:
            for row in batch:
                copy.write_row([v if p is None else p(v)
                                for p, v in zip(processors, (row[n] for n in names), strict=True)])
    except dbapi_error as error:
        # Raised as SQLAlchemy raises an INSERT's error: a unique key two workers both staged (a key
        # dispute, a fact's event) is then the IntegrityError the worker retries after re-reading,
        # not the driver's own class, which nothing upstream knows.
        raise DBAPIError.instance(statement, None, error, dbapi_error, dialect=conn.dialect) from error


def claim_outbox(conn: Connection, now: datetime, lease_until: datetime, limit: int) -> list[dict]:
    """Lease up to `limit` unpublished events, oldest first; an expired lease can be claimed again."""
    pending = (
        select(outbox.c.id)
        .where(outbox.c.published_at.is_(None))
        .where((outbox.c.claimed_until.is_(None)) | (outbox.c.claimed_until < now))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    columns = (outbox.c.id, outbox.c.event_id, outbox.c.topic, outbox.c.copy_topic, outbox.c.key, outbox.c.value,
               outbox.c.copy_value, outbox.c.headers)
    if conn.dialect.name == "postgresql":
        # One round trip instead of three (select, lease, read back): the relay claims once per batch
        # while the intake is committing, and its waits were a third of the worker's on the database.
        picked = pending.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        leased = conn.execute(update(outbox).where(outbox.c.id == picked.c.id).values(claimed_until=lease_until)
                              .returning(*columns))
        return sorted((dict(r._mapping) for r in leased), key=lambda r: r["id"])
    ids = list(conn.scalars(pending))
    if not ids:
        return []
    conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(claimed_until=lease_until))
    return [dict(r._mapping) for r in conn.execute(select(*columns).where(outbox.c.id.in_(ids)).order_by(outbox.c.id))]


def mark_published(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(published_at=now, claimed_until=None))


def outbox_backlog(conn: Connection) -> int:
    return conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) or 0


def outcome_counts(conn: Connection) -> dict[str, int]:
    """Ledger totals per outcome, plus dead letters: what `fengqiao status` and the demo print."""
    counts = dict(conn.execute(select(incidents.c.outcome, func.count()).group_by(incidents.c.outcome)).all())
    counts["dead_letter"] = conn.scalar(select(func.count()).select_from(dead_letters)) or 0
    return counts


def release_claim(conn: Connection, ids: Sequence[int]) -> None:
    """Give leased rows back after a failed publish, so the next attempt need not wait out the lease."""
    if ids:
        conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(claimed_until=None))


def outbox_row(event_id: str, topic: str, key: bytes | None, value: bytes, headers: dict, now: datetime,
               copy_topic: str | None = None, copy_value: bytes | None = None) -> dict:
    """One event to publish (to `topic`, and to `copy_topic` when given: a centre's own topic), to be
    inserted in the same transaction as the fact it tells. The copy is the same record unless
    `copy_value` gives the centre's own rendition (one that keeps the caller).

    Every record carries its `fengqiao-event-id` header, so consumers can de-duplicate; `headers`
    are the others.
    """
    return {"event_id": event_id, "topic": topic, "copy_topic": copy_topic, "key": key, "value": value,
            "copy_value": copy_value, "headers": {**headers, "fengqiao-event-id": event_id}, "created_at": now}
