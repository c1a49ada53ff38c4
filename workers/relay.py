"""The outbox relay: publishes committed events to Kafka, at least once, oldest first.

Rows are leased rather than locked across the network call, so several workers can relay
side by side; a worker that dies mid-publish leaves a lease that expires and another
worker publishes the rows again (consumers de-duplicate by `event_id`).

The relay counts what it publishes; the backlog and its age are the leader's
`DatabaseGauges` (every 10 s), so no replica scans the outbox per batch.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from router.store import ledger
from workers.metrics import RouterMetrics, topic_kind

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
                deliveries.append(await self._send(row["topic"], row["key"], row["value"], headers))
                if row["copy_topic"]:
                    copy = row["copy_value"] or row["value"]
                    deliveries.append(await self._send(row["copy_topic"], row["key"], copy, headers))
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
            return ledger.claim_outbox(conn, now, now + self._lease, self._batch)

    def _release(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            ledger.release_claim(conn, ids)

    def _mark(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            ledger.mark_published(conn, ids, self._clock())
