"""Reads and writes of queued webhook notifications: claiming due ones under a lease, settling attempts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from router.store.tables import notifications, order_reports

PENDING, DELIVERED, GIVEN_UP = "pending", "delivered", "given_up"
_CLAIMED = (notifications.c.id, notifications.c.notification_id, notifications.c.webhook, notifications.c.event,
            notifications.c.order_id, notifications.c.body, notifications.c.attempts, notifications.c.created_at)


def caller_names(conn: Connection, order_ids: Iterable[str]) -> dict[str, list[str]]:
    """The callers' names behind each order (并单 included), to mask them in a notification."""
    ids = sorted(set(order_ids))
    names: dict[str, list[str]] = {}
    if ids:
        for order_id, caller in conn.execute(select(order_reports.c.order_id, order_reports.c.caller)
                                             .where(order_reports.c.order_id.in_(ids))):
            if caller and caller.get("name"):
                names.setdefault(order_id, []).append(caller["name"])
    return names


def claim_due(conn: Connection, now: datetime, lease_until: datetime, limit: int) -> list[dict]:
    """Lease up to `limit` pending notifications due by `now`, oldest first; an expired lease is claimable again.

    On PostgreSQL rows another worker is claiming are skipped (SKIP LOCKED), so two workers never
    deliver the same notification at the same time.
    """
    due = (
        select(notifications.c.id)
        .where(notifications.c.status == PENDING, notifications.c.next_attempt_at <= now)
        .where((notifications.c.claimed_until.is_(None)) | (notifications.c.claimed_until < now))
        .order_by(notifications.c.next_attempt_at, notifications.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        picked = due.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        leased = conn.execute(update(notifications).where(notifications.c.id == picked.c.id)
                              .values(claimed_until=lease_until).returning(*_CLAIMED))
        return sorted((dict(r._mapping) for r in leased), key=lambda r: r["id"])
    ids = list(conn.scalars(due))
    if not ids:
        return []
    conn.execute(update(notifications).where(notifications.c.id.in_(ids)).values(claimed_until=lease_until))
    return [dict(r._mapping) for r in conn.execute(select(*_CLAIMED).where(notifications.c.id.in_(ids))
                                                    .order_by(notifications.c.id))]


def settle(conn: Connection, row_id: int, attempts: int, now: datetime, *, status: str,
           next_attempt_at: datetime | None = None, error: str | None = None) -> None:
    """Record one attempt: delivered, given up, or (pending) tried again at `next_attempt_at`; the lease ends."""
    values: dict = {"attempts": attempts, "claimed_until": None, "status": status, "last_error": error}
    if status == PENDING:
        values["next_attempt_at"] = next_attempt_at
    else:
        values["settled_at"] = now
    conn.execute(update(notifications).where(notifications.c.id == row_id).values(**values))


def pending_figures(conn: Connection) -> tuple[int, datetime | None]:
    """How many notifications wait to be delivered, and when the oldest of them was queued."""
    count, oldest = conn.execute(select(func.count(), func.min(notifications.c.created_at))
                                 .where(notifications.c.status == PENDING)).one()
    return count or 0, oldest
