"""The demo feed of `make run`: realistic incidents for the configured jurisdiction at a steady rate."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

from kafka import KafkaProducer
from sqlalchemy import Engine

from router.domain.jurisdiction import Jurisdiction
from router.store import ledger
from workers.feedgen import FeedGenerator
from workers.kafka_security import client_kwargs
from workers.settings import Settings

STATUS_EVERY_S = 5.0


class DemoFeed:
    def __init__(self, settings: Settings, jurisdiction: Jurisdiction, engine: Engine,
                 clock: Callable[[], datetime]) -> None:
        self._settings = settings
        self._clock = clock  # the worker's: an accelerated demo clock stamps received_at on its own time line
        self._generator = FeedGenerator(jurisdiction, seed=int(time.time()) % 100, id_prefix="DEMO")
        self._engine = engine

    def run(self, stop: threading.Event) -> None:
        """Publish until `stop` is set; prints totals from the database every few seconds."""
        producer = KafkaProducer(bootstrap_servers=self._settings.kafka_servers, client_id="fengqiao-demo-feed",
                                 **client_kwargs(self._settings))
        rate = self._settings.demo_rate
        sent, started, last_status = 0, time.monotonic(), 0.0
        try:
            while not stop.is_set():
                if rate > 0:
                    sample = self._generator.sample(self._clock())
                    producer.send(self._settings.topics.incidents, key=sample.key, value=sample.value)
                    sent += 1
                now = time.monotonic()
                if now - last_status >= STATUS_EVERY_S:
                    last_status = now
                    self._print_status(sent)
                ahead = sent / rate - (now - started) if rate > 0 else STATUS_EVERY_S
                stop.wait(max(ahead, 0.0))
        finally:
            producer.close(timeout=5)
            if sys.stderr.isatty():
                print(file=sys.stderr)  # end the status line

    def _print_status(self, sent: int) -> None:
        with self._engine.connect() as conn:
            counts = ledger.outcome_counts(conn)
            backlog = ledger.outbox_backlog(conn)
        line = (f"[demo] sent {sent} | 工单 work orders {counts.get('work_order', 0)} | 警务 police "
                f"{counts.get('police', 0)} | 待定位 review {counts.get('review', 0)} | 死信 dead letters "
                f"{counts.get('dead_letter', 0)} | outbox backlog {backlog}")
        if sys.stderr.isatty():  # one line, rewritten in place, under the banner
            print(f"\r\x1b[2K{line}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
