"""The access log as a hash chain: appending a row under the chain head's lock, and reading it back in order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import Connection, func, insert, select, update

from router.domain.audit_chain import Head, chain_hash
from router.store.tables import access_log, audit_chain_heads, order_events

_CHAIN = "access_log"


def append(conn: Connection, entry: Mapping[str, object]) -> int:
    """Append one access-log row chained to the last one, in the caller's transaction; its id.

    The first statement locks the head row (PostgreSQL) or takes the write lock (SQLite) until the
    transaction ends, so concurrent appends queue and never both follow the same row.
    """
    head = audit_chain_heads.c
    prev_hash = conn.execute(update(audit_chain_heads).where(head.chain == _CHAIN)
                             .values(last_id=head.last_id).returning(head.row_hash)).scalar_one()
    row_hash = chain_hash(prev_hash, entry)
    row_id = conn.execute(insert(access_log).values(**entry, prev_hash=prev_hash, row_hash=row_hash)
                          .returning(access_log.c.id)).scalar_one()
    conn.execute(update(audit_chain_heads).where(head.chain == _CHAIN).values(last_id=row_id, row_hash=row_hash))
    return row_id


def chain_head(conn: Connection) -> Head:
    row = conn.execute(select(audit_chain_heads).where(audit_chain_heads.c.chain == _CHAIN)).one()
    return Head(row.last_id, row.row_hash)


def chained_rows(conn: Connection, head: Head) -> Iterator[Mapping[str, object]]:
    """The access-log rows up to `head` in id order, streamed: rows appended since it was read are left for
    the next walk (ids are taken under the head's lock, so none below it can still be uncommitted)."""
    query = select(access_log).order_by(access_log.c.id)
    if head.last_id is not None:
        query = query.where(access_log.c.id <= head.last_id)
    result = conn.execution_options(yield_per=2000).execute(query)
    for row in result:
        yield row._mapping


def order_events_checkpoint(conn: Connection) -> tuple[int, int | None]:
    """The order events' count and highest id: a figure to record elsewhere and compare later."""
    count, last = conn.execute(select(func.count(), func.max(order_events.c.id))).one()
    return count, last
