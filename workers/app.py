"""The Faust worker: the routing agent, the outbox relay task, webhook deliveries and `/metrics`.

Faust acks a batch from `take_events` when the loop body returns, and also when it
raises or is cancelled. So the body never raises: transient errors (database, broker)
are retried with backoff on the same batch, and a batch that can be neither finished
nor retried ends the process without acking, so its records are delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import faust
import httpx
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from router.commands import CommandHandler
from router.dead_letters import FeedRecord
from router.domain.notify import RetryPolicy
from router.domain.routing import Router
from router.intake import DEAD_LETTER, BatchResult, Intake
from router.notifications import Notifier
from router.onboarding import hand_over_onboarded
from router.sweep import Sweep
from workers.clock import utc_now
from workers.kafka_security import faust_credentials
from workers.metrics import DatabaseGauges, RouterMetrics, topic_kind
from workers.relay import OutboxRelay
from workers.settings import Settings
from workers.webhooks import WebhookDelivery, http_post, resolve_endpoints

log = structlog.get_logger("fengqiao.worker")

T = TypeVar("T")
TRANSIENT = (OperationalError, IntegrityError, DBAPIError, ConnectionError, TimeoutError)
EXIT_UNPROCESSED = 70
METRICS_INTERVAL_S = 10.0  # database gauges and consumer lag; Prometheus scrapes every 15 s


@dataclass
class Wiring:
    """What the worker is built from; tests pass their own clock and metrics."""

    settings: Settings
    router: Router
    engine: Engine
    metrics: RouterMetrics
    clock: Callable[[], datetime] = utc_now
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))  # webhook URLs' ${NAME}s, secrets


def create_app(w: Wiring) -> faust.App:
    s = w.settings
    app = faust.App(
        s.group_id,
        broker=[f"kafka://{server}" for server in s.kafka_servers.split(",")],
        broker_credentials=faust_credentials(s),
        datadir=str(s.data_dir / "faust"),
        processing_guarantee="at_least_once",
        broker_session_timeout=s.session_timeout_s,
        broker_heartbeat_interval=s.heartbeat_interval_s,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        topic_partitions=s.topic_partitions,
        topic_replication_factor=s.replication_factor,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=True,
        web_bind=s.web_host,
        web_port=s.web_port,
        web_in_thread=False,
    )
    intake = Intake(w.router, w.engine.begin, s.topics, s.max_record_bytes)
    feed = app.topic(s.topics.incidents, key_type=bytes, value_type=bytes)
    command_feed = app.topic(s.topics.commands, key_type=bytes, value_type=bytes)
    relay_wake = asyncio.Event()

    async def send(topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]):
        return await app.producer.send(topic, key, value, None, None, headers)

    relay = OutboxRelay(w.engine, send, w.clock, w.metrics, s.relay_batch, s.relay_lease_s)

    @app.agent(feed, name="route")
    async def route(stream: faust.StreamT) -> None:
        async for events in stream.take_events(s.batch_size, within=s.batch_window_s):
            records = [_record(e) for e in events]
            result = await _until_done(partial(intake.handle, records), records, w, "intake")
            _observe(result, w.metrics, w.clock())
            relay_wake.set()

    if w.router.jurisdiction.loop is not None:
        handler = CommandHandler(w.router.jurisdiction, w.engine.begin, s.topics)
        sweep = Sweep(w.engine, s.topics, s.sweep_batch, Notifier(w.router.jurisdiction))

        @app.agent(command_feed, name="commands")
        async def apply_commands(stream: faust.StreamT) -> None:
            async for events in stream.take_events(s.batch_size, within=s.batch_window_s):
                records = [_record(e) for e in events]
                work = partial(handler.handle_records, records, max_bytes=s.max_record_bytes)
                outcomes = await _until_done(work, records, w, "commands")
                for outcome in outcomes:
                    w.metrics.commands.labels(outcome.status).inc()
                    log.info("command", order_id=outcome.order_id, status=outcome.status, code=outcome.code)
                relay_wake.set()

        @app.task
        async def hand_over_to_onboarded_towns() -> None:
            """接入, once at start: the open orders the district ran for towns the bundle now onboards."""
            backoff = Backoff(s.retry_max_delay_s)
            while not app.should_stop:
                try:
                    handed = await asyncio.to_thread(hand_over_onboarded, w.router.jurisdiction, w.engine.begin,
                                                     s.topics, w.clock())
                except TRANSIENT as error:
                    _count_retry(w.metrics, "onboarding", error)
                    await asyncio.sleep(backoff.next())
                    continue
                if handed:
                    log.info("handed_over_to_onboarded_towns", orders=len(handed))
                    relay_wake.set()
                return

        @app.timer(s.sweep_interval_s, on_leader=True)
        async def supervise() -> None:
            """The 1 s tick: fire what is due; a database error waits for the next tick (rows stay due)."""
            try:
                while True:
                    result = await asyncio.to_thread(sweep.tick, w.clock())
                    for lateness in result.lateness_s:
                        w.metrics.sweep_lateness.observe(lateness)
                    w.metrics.sla_effects.inc(result.fired)
                    if result.claimed:
                        relay_wake.set()
                    if result.claimed < s.sweep_batch:
                        break
            except TRANSIENT as error:
                _count_retry(w.metrics, "sweep", error)
                log.warning("sweep_retry", error=type(error).__name__)

    @app.task
    async def relay_outbox() -> None:
        backoff = Backoff(s.retry_max_delay_s)
        while not app.should_stop:
            try:
                while await relay.publish_pending():
                    pass
                backoff.reset()
            except Exception as error:  # aiokafka's errors share no transient base; retry them all
                _count_retry(w.metrics, "relay", error)
                delay = backoff.next()
                log.warning("relay_retry", error=repr(error), delay_s=delay)
                await asyncio.sleep(delay)
                continue
            relay_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(relay_wake.wait(), timeout=0.5)

    webhooks = w.router.jurisdiction.webhooks
    if webhooks.hooks:
        endpoints = resolve_endpoints(webhooks, w.environ)  # before the worker starts: a missing variable is fatal
        policy = RetryPolicy(timedelta(seconds=s.notify_retry_first_s), timedelta(seconds=s.notify_retry_max_s),
                             timedelta(seconds=s.notify_max_age_s))

        @app.task
        async def deliver_notifications() -> None:
            async with httpx.AsyncClient(timeout=s.notify_timeout_s, follow_redirects=False) as client:
                delivery = WebhookDelivery(w.engine, endpoints, http_post(client), w.clock, w.metrics, policy,
                                           s.notify_batch, s.notify_lease_s)
                await delivery.run(lambda: app.should_stop, s.retry_max_delay_s)

    j = w.router.jurisdiction
    # The district centre is a unit too: it is charged for the orders it runs (区中心代管).
    units = [(town.code, town.name) for town in j.towns] + [(j.district_centre.code, j.district_centre.name)]
    w.metrics.prime(units).prime_webhooks(webhooks)
    gauges = DatabaseGauges(w.metrics)

    def refresh_gauges() -> None:
        with w.engine.begin() as conn:
            gauges.refresh(conn, w.clock())

    @app.timer(METRICS_INTERVAL_S, on_leader=True)
    async def database_gauges() -> None:
        """Open orders, outbox backlog and audit-derived durations; on the leader only, so sums count once."""
        try:
            await asyncio.to_thread(refresh_gauges)
        except TRANSIENT as error:
            w.metrics.database_errors.labels("gauges").inc()
            log.warning("gauges_retry", error=type(error).__name__)

    @app.timer(METRICS_INTERVAL_S)
    async def consumer_lag() -> None:
        """Lag per assigned partition from the highwater in fetch responses (ListOffsets is wrong on Tansu)."""
        _observe_lag(app, w.metrics)

    @app.on_partitions_assigned.connect
    async def rebalanced(sender, *args, **kwargs) -> None:  # noqa: ANN001 - Faust's signal signature
        w.metrics.rebalances.inc()

    @app.page("/metrics")
    async def metrics(web, request):  # noqa: ANN001 - Faust's view signature
        # aiohttp refuses a charset inside content_type, so the exposition type goes in as a header.
        return web.bytes(generate_latest(w.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return app


def _record(event: faust.types.EventT) -> FeedRecord:
    m = event.message
    headers = m.headers.items() if isinstance(m.headers, Mapping) else m.headers or ()
    return FeedRecord(m.value, m.key, m.topic, m.partition, m.offset, tuple((k, bytes(v or b"")) for k, v in headers))


async def _until_done(work: Callable[[datetime], T], records: list[FeedRecord], w: Wiring, stage: str) -> T:
    """Run `work(now)` for one batch, retrying transient failures; never returns without having done it."""
    backoff = Backoff(w.settings.retry_max_delay_s)
    while True:
        with w.metrics.batch_seconds.time():
            running = asyncio.ensure_future(asyncio.to_thread(work, w.clock()))
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                # Stopping mid-batch: let the commit in flight finish, or die before Faust acks.
                try:
                    await running
                except BaseException as error:
                    _abandon(records, error)
                raise
            except TRANSIENT as error:
                _count_retry(w.metrics, stage, error)
                delay = backoff.next()
                log.warning(f"{stage}_retry", error=type(error).__name__, records=len(records), delay_s=delay,
                            first_offset=records[0].offset, partition=records[0].partition)
            except Exception as error:
                _abandon(records, error)
        await _sleep_or_abandon(delay, records)


class Backoff:
    """Waits between retries of one thing: 0.1 s, doubling up to `max_s`, back to 0.1 s after a success."""

    FIRST_S = 0.1

    def __init__(self, max_s: float) -> None:
        self._max_s = max_s
        self._delay = self.FIRST_S

    def next(self) -> float:
        """How long to wait before this retry; the next one waits twice as long (at most `max_s`)."""
        delay = self._delay
        self._delay = min(delay * 2, self._max_s)
        return delay

    def reset(self) -> None:
        self._delay = self.FIRST_S


def _count_retry(metrics: RouterMetrics, stage: str, error: BaseException) -> None:
    """A transient failure of `stage` about to be retried; a database error (DBAPIError) is also counted as one."""
    metrics.retries.labels(stage).inc()
    if isinstance(error, DBAPIError):
        metrics.database_errors.labels(stage).inc()


async def _sleep_or_abandon(delay: float, records: list[FeedRecord]) -> None:
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError as error:
        _abandon(records, error)


def _abandon(records: list[FeedRecord], error: BaseException) -> None:
    """End the process without acking, so the batch is redelivered; a bug must be loud, not lossy."""
    log.critical("batch_abandoned", error=repr(error), records=len(records),
                 topic=records[0].topic, partition=records[0].partition, first_offset=records[0].offset)
    os._exit(EXIT_UNPROCESSED)


def _observe_lag(app: faust.App, metrics: RouterMetrics) -> None:
    """Best effort: a reading must never stop the worker, so any error skips this tick."""
    consumer = app.consumer
    try:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:  # not fetched yet
                continue
            committed = consumer._committed_offset.get(tp)  # Faust keeps no public view of it
            lag = max(0, highwater - (committed or 0))
            metrics.consumer_lag.labels(topic_kind(tp.topic), str(tp.partition)).set(lag)
    except Exception as error:  # not started, or between assignments
        log.debug("lag_unavailable", error=repr(error))


def _observe(result: BatchResult, metrics: RouterMetrics, now: datetime) -> None:
    # Counted per batch, then one inc per label set: a labels() lookup per record and per rule was a
    # visible share of the event loop's time at a few hundred records a second.
    outcomes: Counter[str] = Counter()
    decisions: Counter[tuple[str, str]] = Counter()
    rules: Counter[tuple[str, str]] = Counter()
    for routed in result.routed:
        outcomes[routed.outcome] += 1
        if routed.outcome == DEAD_LETTER:
            metrics.dead_letters.labels(routed.reason or "unknown").inc()
            log.warning("dead_lettered", reason=routed.reason, topic=routed.record.topic,
                        partition=routed.record.partition, offset=routed.record.offset)
        elif routed.incident_id is not None and routed.outcome != "duplicate":
            town = routed.town_code or "none"
            decisions[routed.outcome, town] += 1
            for rule in routed.rule_ids:
                rules[town, rule] += 1
            if routed.order_id is not None and not routed.merged and routed.received_at is not None:
                # The feed's clock is not ours, so skew shows up here too.
                metrics.end_to_end_seconds.observe(max(0.0, (now - routed.received_at).total_seconds()))
            log.info("routed", incident_id=routed.incident_id, outcome=routed.outcome, order_id=routed.order_id,
                     town_code=routed.town_code, rule_ids=list(routed.rule_ids), topic=routed.record.topic,
                     partition=routed.record.partition, offset=routed.record.offset)
    for labels, n in decisions.items():
        metrics.decisions.labels(*labels).inc(n)
    for labels, n in rules.items():
        metrics.rules.labels(*labels).inc(n)
    # Last: the feed counter is what says a batch is done (tests and the bench wait on it).
    for outcome, n in outcomes.items():
        metrics.incidents.labels("feed", outcome).inc(n)
