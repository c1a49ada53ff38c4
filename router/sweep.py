"""The SLA sweep (监督): fires due warnings, breaches and escalations, each exactly once.

Timers are rows. Each tick claims due ones (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
sweeps on several workers never take the same row), checks that the stage is still pending
for the same holder (generation), and in the same transaction marks the timer fired,
audits the effect and queues its event. A crash before the commit leaves the timer pending,
so it fires after the restart; a commit makes it fired, so it never fires again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from router.domain.notify import event_of_sla
from router.domain.sla import effect_kind, is_pending
from router.ids import fact_id
from router.loop_events import stage_fact
from router.notifications import Notifier
from router.store import ledger, notifications, orders
from schemas.topics import Topics


@dataclass(frozen=True, slots=True)
class SweepResult:
    fired: int
    cancelled: int
    lateness_s: tuple[float, ...]  # now - due_at of each fired timer

    @property
    def claimed(self) -> int:
        return self.fired + self.cancelled


class Sweep:
    def __init__(self, engine: Engine, topics: Topics, batch: int = 500, notifier: Notifier | None = None) -> None:
        self._engine = engine
        self._probe: Connection | None = None
        self._topics = topics
        self._batch = batch
        self._notifier = notifier

    def tick(self, now: datetime) -> SweepResult:
        """Fire up to one batch of due timers; call again while it returns a full batch."""
        if not self._anything_due(now):
            return SweepResult(0, 0, ())
        with self._engine.begin() as conn:
            due = orders.claim_due_timers(conn, now, self._batch)
            if not due:
                return SweepResult(0, 0, ())
            by_id = orders.orders_by_id(conn, (row["order_id"] for row in due))
            notifier = self._notifier if self._notifier and self._notifier.wanted else None
            callers = notifications.caller_names(conn, by_id) if notifier else {}
            fired, cancelled, lateness = [], [], []
            rows: dict[str, list[dict]] = {}
            for row in due:
                timer = orders.to_timer(row)
                order_row = by_id.get(timer.order_id)
                order = orders.to_order(order_row) if order_row else None
                if order is None or not is_pending(order, timer):
                    cancelled.append(row["id"])
                    continue
                fired.append(row["id"])
                lateness.append((now - timer.due_at).total_seconds())
                event_id = fact_id("sla", timer.order_id, timer.generation, timer.stage, timer.kind,
                                   timer.due_at.isoformat())
                stage_fact(rows, self._topics, order,
                       event_id=event_id,
                       event_type="workorder.sla", kind=effect_kind(timer.stage, timer.kind), at=now,
                       from_state=order.state.value, details={"unit_code": timer.unit_code},
                       stage=timer.stage.value, sla_kind=timer.kind, due_at=timer.due_at)
                if notifier:
                    notifier.stage(rows, event_id, event_of_sla(timer.kind), order_row, now,
                                   callers.get(timer.order_id, ()), stage=timer.stage.value, sla_kind=timer.kind,
                                   due_at=timer.due_at)
            ledger.add_rows(conn, rows)
            orders.settle_timers(conn, fired, cancelled, now)
            return SweepResult(len(fired), len(cancelled), tuple(lateness))

    def _anything_due(self, now: datetime) -> bool:
        """Most ticks find nothing due: ask on a kept autocommit connection, in one round trip."""
        if self._probe is None:
            self._probe = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return orders.any_due(self._probe, now)
        except DBAPIError:
            self._probe.invalidate()
            self._probe = None
            raise
