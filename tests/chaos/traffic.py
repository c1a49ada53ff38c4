"""What keeps arriving while faults are injected: the paced feed (with replays of records already sent),
acknowledge commands over Kafka and over HTTP, each sent again later with the same idempotency key."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

import httpx
from kafka import KafkaProducer
from sqlalchemy import Engine, select

from router.store.tables import work_orders
from schemas.topics import Topics
from tests.chaos.checker import SentCommand
from tests.integration.support import integration_token, token_header
from workers.clock import MovedClock
from workers.feedgen import Sample

TICK_S = 0.5
COMMANDS_EVERY_S = 2.0
RETRY_AFTER_S = (2.0, 8.0)  # a command is sent again this long after, so some retries straddle a fault
REPLAY_SHARE = 0.03  # records sent twice, as a feed that reconnects does
HTTP_PATIENCE_S = 90.0


@dataclass
class Traffic:
    """A thread that sends `feed` evenly over `seconds`, and acknowledge commands every few seconds."""

    bootstrap: str
    topics: Topics
    engine: Engine  # direct, not through the proxy: the harness sees the database during outages
    clock: MovedClock
    feed: list[Sample]
    seconds: float
    seed: int
    api_url: str | None = None
    sent: list[SentCommand] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # HTTP commands that never got an answer
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(init=False)
    _threads: list[threading.Thread] = field(default_factory=list)
    _commanded: set[str] = field(default_factory=set)
    _tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def start(self) -> Traffic:
        thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def finish(self) -> None:
        """Wait until the feed is sent and every HTTP command answered (or given up on)."""
        self._threads[0].join()
        for thread in self._threads[1:]:
            thread.join()

    def _run(self) -> None:
        rng = self._rng
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, retries=20,
                                 request_timeout_ms=30_000, max_block_ms=120_000)
        per_tick = max(1, round(len(self.feed) * TICK_S / self.seconds))
        retries: list[tuple[float, bytes, bytes, list[tuple[str, bytes]]]] = []
        sent, next_commands = 0, time.monotonic()
        while sent < len(self.feed):
            for sample in self.feed[sent:sent + per_tick]:
                producer.send(self.topics.incidents, key=sample.key, value=sample.value)
                if rng.random() < REPLAY_SHARE:
                    producer.send(self.topics.incidents, key=sample.key, value=sample.value)
            sent += per_tick
            now = time.monotonic()
            if now >= next_commands:
                next_commands = now + COMMANDS_EVERY_S
                retries.extend(self._commands_over_kafka(producer, rng, now))
                self.command_over_http()
            for _, key, value, headers in [r for r in retries if r[0] <= now]:
                producer.send(self.topics.commands, key=key, value=value, headers=headers)
            retries = [r for r in retries if r[0] > now]
            time.sleep(TICK_S)
        for _, key, value, headers in retries:
            producer.send(self.topics.commands, key=key, value=value, headers=headers)
        producer.flush()
        producer.close()

    def _dispatched_orders(self, n: int) -> list[tuple[str, str]]:
        """(order id, town) of up to `n` orders still awaiting 签收 that no command has been sent for."""
        with self._lock, self.engine.connect() as conn:
            rows = conn.execute(select(work_orders.c.order_id, work_orders.c.town_code)
                                .where(work_orders.c.state == "dispatched")
                                .order_by(work_orders.c.opened_at.desc()).limit(n + len(self._commanded))).all()
            fresh = [(o, t) for o, t in rows if o not in self._commanded][:n]
            self._commanded.update(o for o, _ in fresh)
            return fresh

    def _commands_over_kafka(self, producer: KafkaProducer, rng: random.Random,
                             now: float) -> list[tuple[float, bytes, bytes, list[tuple[str, bytes]]]]:
        """签收 as the town's system: its token in the header, the key stored in its Kafka namespace."""
        later = []
        for order_id, town in self._dispatched_orders(3):
            key = f"chaos-ack-{order_id}"
            value = json.dumps({"idempotency_key": key, "order_id": order_id, "action": "acknowledge"}).encode()
            headers = token_header(self._token(town))
            producer.send(self.topics.commands, key=order_id.encode(), value=value, headers=headers)
            with self._lock:
                self.sent.append(SentCommand(f"kafka:{town}:{key}", order_id, "acknowledge"))
            later.append((now + rng.uniform(*RETRY_AFTER_S), order_id.encode(), value, headers))
        return later

    def command_over_http(self) -> None:
        """签收 one waiting order through the API, in a thread that retries it until answered."""
        if self.api_url is None:
            return
        for order_id, town in self._dispatched_orders(1):
            key = f"chaos-http-{order_id}"
            with self._lock:
                self.sent.append(SentCommand(f"api:{town}:{key}", order_id, "acknowledge"))
                resend_after_s = self._rng.uniform(*RETRY_AFTER_S)
            thread = threading.Thread(target=self._acknowledge_over_http, args=(order_id, town, key, resend_after_s),
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    def _acknowledge_over_http(self, order_id: str, town: str, key: str, resend_after_s: float) -> None:
        """POST 签收 with `key` until the API answers (it may be down, or its database), then once more."""
        headers = {"Authorization": f"Bearer {self._token(town)}", "Idempotency-Key": key}
        url = f"{self.api_url}/api/v1/orders/{order_id}/acknowledge"
        for attempt in range(2):
            deadline = time.monotonic() + HTTP_PATIENCE_S
            while True:
                try:
                    if httpx.post(url, json={}, headers=headers, timeout=5).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.unanswered.append(f"{key} (attempt {attempt + 1})")
                    return
                time.sleep(0.5)
            time.sleep(resend_after_s)

    def _token(self, town: str) -> str:
        """A bearer token of the town's integration account (a town system), created on first use."""
        with self._lock:
            return self._tokens.get(town) or self._new_token(town)

    def _new_token(self, town: str) -> str:
        self._tokens[town] = integration_token(self.engine, f"chaos-{town}", town, self.clock.now())
        return self._tokens[town]
