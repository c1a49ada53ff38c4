"""The outbox relay: publishes committed events to Kafka, at least once, oldest first.

Rows are leased rather than locked across the network call, so several workers can relay
side by side; a worker that dies mid-publish leaves a lease that expires and another
worker publishes the rows again (consumers de-duplicate by `event_id`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from router.store import ledger
from workers.metrics import RouterMetrics, topic_kind

BACKLOG_EVERY_S = 2.0

Send = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]]


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        send: Send,
        clock: Callable[[], datetime],
        metrics: RouterMetrics,
        batch: int = 500,
        lease_s: float = 30.0,
    ) -> None:
        self._engine = engine
        self._send = send
        self._clock = clock
        self._metrics = metrics
        self._batch = batch
        self._lease = timedelta(seconds=lease_s)
        self._counted_at = -BACKLOG_EVERY_S
        self._stale = False  # batches were marked since the gauge was last set

    async def publish_pending(self) -> int:
        """Publish one leased batch; returns how many events went out (0 when idle)."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        ids = [row["id"] for row in rows]
        try:
            deliveries = []
            for row in rows:
                headers = [(k, str(v).encode()) for k, v in row["headers"].items()]
                for topic in filter(None, (row["topic"], row["copy_topic"])):
                    deliveries.append(await self._send(topic, row["key"], row["value"], headers))
            await asyncio.gather(*deliveries)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self._release, ids))
            raise
        await asyncio.to_thread(self._mark, ids)
        for kind, n in Counter(topic_kind(row["topic"]) for row in rows).items():
            self._metrics.published.labels(kind).inc(n)
        return len(rows)

    def _claim(self) -> list[dict]:
        now = self._clock()
        with self._engine.begin() as conn:
            rows = ledger.claim_outbox(conn, now, now + self._lease, self._batch)
            if not rows and self._stale:  # going idle: leave the gauge exact
                self._count(conn)
            return rows

    def _count(self, conn: Connection) -> None:
        self._metrics.outbox_backlog.set(ledger.outbox_backlog(conn))
        self._counted_at = time.monotonic()
        self._stale = False

    def _release(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            ledger.release_claim(conn, ids)

    def _mark(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            ledger.mark_published(conn, ids, self._clock())
            # Counting the backlog after every batch cost a scan per batch under load; a gauge read
            # every 15 s needs it no fresher than this, and it is made exact when the relay goes idle.
            self._stale = True
            if time.monotonic() - self._counted_at >= BACKLOG_EVERY_S:
                self._count(conn)
