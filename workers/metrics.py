"""Prometheus metrics of the router, declared once and handed to whoever records them.

Every label is bounded: town codes, outcomes, reasons, stages, kinds, rule ids from the
bundle, topic kinds and partition numbers. Never an incident id, order id, name or phone.
`docs/metrics.md` lists each metric with what it means and who records it.

`DatabaseGauges` refreshes what only the database knows (open orders, outbox backlog and
age) and turns new audit rows into acknowledge/report durations and SLA effects per town.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Connection, func, select

from router.domain.lifecycle import FINISHED
from router.domain.notify import Webhooks
from router.domain.sla import Stage, parse_effect_kind
from router.store import ledger, notifications, views
from router.store.tables import order_events, outbox, work_orders
from schemas.deadletter import DeadLetterReason

# Seconds: a minute to several working days; acknowledge deadlines are minutes, reports hours or days.
_DURATION_BUCKETS = (60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)
DEAD_LETTER_REASONS = tuple(DeadLetterReason)
COMMAND_STATUSES = ("accepted", "rejected", "duplicate", "dead_letter")
STAGES = ("intake", "commands", "sweep", "relay", "gauges", "onboarding", "webhooks")


@dataclass(frozen=True)
class RouterMetrics:
    registry: CollectorRegistry
    incidents: Counter
    dead_letters: Counter
    decisions: Counter
    rules: Counter
    end_to_end_seconds: Histogram
    batch_seconds: Histogram
    retries: Counter
    database_errors: Counter
    outbox_backlog: Gauge
    outbox_oldest_seconds: Gauge
    published: Counter
    commands: Counter
    sla_effects: Counter
    sla_events: Counter
    sweep_lateness: Histogram
    open_orders: Gauge
    acknowledge_seconds: Histogram
    acknowledgements: Counter
    report_seconds: Histogram
    consumer_lag: Gauge
    rebalances: Counter
    town_info: Gauge
    reviews_waiting: Gauge
    review_oldest_seconds: Gauge
    dead_letters_waiting: Gauge
    dead_letter_oldest_seconds: Gauge
    webhook_delivered: Counter
    webhook_failed: Counter
    webhook_given_up: Counter
    webhook_pending: Gauge
    webhook_oldest_seconds: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> RouterMetrics:
        r = registry or CollectorRegistry()
        return cls(
            registry=r,
            incidents=Counter("fengqiao_incidents", "Feed records by source and outcome.", ["source", "outcome"],
                              registry=r),
            dead_letters=Counter("fengqiao_dead_letters", "Dead-lettered feed records by reason.", ["reason"],
                                 registry=r),
            decisions=Counter("fengqiao_routing_decisions", "Routing decisions by outcome and town.",
                              ["outcome", "town"], registry=r),
            rules=Counter("fengqiao_routing_rules", "Bundle rules that fired in routing decisions, by town.",
                          ["town", "rule"], registry=r),
            end_to_end_seconds=Histogram(
                "fengqiao_incident_to_order_seconds",
                "From the feed's received_at to the committed work order (clock skew included).",
                buckets=_LATENCY_BUCKETS, registry=r),
            batch_seconds=Histogram("fengqiao_intake_batch_seconds", "Time to route and commit one batch.",
                                    registry=r),
            retries=Counter("fengqiao_transient_retries", "Retries after a database or broker error.", ["stage"],
                            registry=r),
            database_errors=Counter("fengqiao_database_errors", "Database errors by stage (each is retried).",
                                    ["stage"], registry=r),
            outbox_backlog=Gauge("fengqiao_outbox_backlog", "Events committed but not yet published.", registry=r),
            outbox_oldest_seconds=Gauge("fengqiao_outbox_oldest_seconds",
                                        "Age of the oldest unpublished outbox event (relay lag).", registry=r),
            commands=Counter("fengqiao_commands", "Work-order commands by outcome.", ["status"], registry=r),
            sla_effects=Counter("fengqiao_sla_effects", "Warnings, breaches and escalations fired.", registry=r),
            sla_events=Counter("fengqiao_sla_events", "SLA warnings, breaches and escalations by town and stage.",
                               ["town", "stage", "kind"], registry=r),
            sweep_lateness=Histogram("fengqiao_sweep_lateness_seconds", "How late the sweep fired a due timer.",
                                     buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r),
            published=Counter("fengqiao_outbox_published", "Events published by the outbox relay.", ["topic_kind"],
                              registry=r),
            open_orders=Gauge("fengqiao_open_orders", "Work orders not closed, withdrawn or merged, by town and state.",
                              ["town", "state"], registry=r),
            acknowledge_seconds=Histogram("fengqiao_acknowledge_seconds", "Dispatch to accepted acknowledge, by town.",
                                          ["town"], buckets=_DURATION_BUCKETS, registry=r),
            acknowledgements=Counter("fengqiao_acknowledgements", "Accepted 签收 by town, on_time true when it came "
                                     "by the 签收 deadline (a late one also has its breach).", ["town", "on_time"],
                                     registry=r),
            report_seconds=Histogram("fengqiao_report_seconds", "Dispatch to accepted report, by town.",
                                     ["town"], buckets=_DURATION_BUCKETS, registry=r),
            consumer_lag=Gauge("fengqiao_consumer_lag",
                               "Highwater seen in fetch responses minus the committed offset, per assigned partition.",
                               ["topic", "partition"], registry=r),
            rebalances=Counter("fengqiao_rebalances", "Consumer-group rebalances this worker took part in.",
                               registry=r),
            town_info=Gauge("fengqiao_town_info", "The bundle's towns, always 1: join on town for town_name, so "
                            "panels and alerts name a town (新塘街道) rather than its code.", ["town", "town_name"],
                            registry=r),
            reviews_waiting=Gauge("fengqiao_reviews_waiting", "待定位: review items the district has not decided.",
                                  registry=r),
            review_oldest_seconds=Gauge("fengqiao_review_oldest_seconds",
                                        "Age of the oldest review item waiting for the district (0 when none).",
                                        registry=r),
            dead_letters_waiting=Gauge("fengqiao_dead_letters_waiting", "死信 not re-driven.", registry=r),
            dead_letter_oldest_seconds=Gauge("fengqiao_dead_letter_oldest_seconds",
                                             "Age of the oldest dead letter not re-driven (0 when none).", registry=r),
            webhook_delivered=Counter("fengqiao_webhook_delivered", "Webhook notifications delivered (2xx), by unit "
                                      "and event.", ["unit", "event"], registry=r),
            webhook_failed=Counter("fengqiao_webhook_failed", "Failed webhook attempts (not 2xx, or no answer), each "
                                   "retried later unless given up.", ["unit", "event"], registry=r),
            webhook_given_up=Counter("fengqiao_webhook_given_up", "Webhook notifications given up: not delivered "
                                     "within FENGQIAO_NOTIFY_MAX_AGE_S, or their webhook left notify.csv.",
                                     ["unit", "event"], registry=r),
            webhook_pending=Gauge("fengqiao_webhook_pending", "Webhook notifications queued, not yet delivered.",
                                  registry=r),
            webhook_oldest_seconds=Gauge("fengqiao_webhook_oldest_seconds",
                                         "Age of the oldest webhook notification not yet delivered.", registry=r),
        )

    def prime(self, towns: Iterable[tuple[str, str]]) -> RouterMetrics:
        """Create the bounded label sets up front, so alerts and panels see zeros rather than no series;
        `towns` are (code, name) pairs."""
        for reason in DEAD_LETTER_REASONS:
            self.dead_letters.labels(reason)
        for status in COMMAND_STATUSES:
            self.commands.labels(status)
        for stage in STAGES:
            self.retries.labels(stage)
            self.database_errors.labels(stage)
        for town, name in towns:
            self.town_info.labels(town, name).set(1)
            self.open_orders.labels(town, "dispatched")
            self.acknowledge_seconds.labels(town)
            for on_time in ("true", "false"):
                self.acknowledgements.labels(town, on_time)
            self.report_seconds.labels(town)
            for sla_stage in Stage:
                self.sla_events.labels(town, sla_stage.value, "breach")
        return self


    def prime_webhooks(self, webhooks: Webhooks) -> RouterMetrics:
        """The (unit, event) series of every webhook at zero, so an alert sees its first give-up."""
        for hook in webhooks.hooks:
            for event in hook.events:
                for counter in (self.webhook_delivered, self.webhook_failed, self.webhook_given_up):
                    counter.labels(hook.unit_code, event.value)
        return self


def topic_kind(topic: str) -> str:
    """A bounded label: per-centre topics collapse into one kind; the prefix is dropped."""
    return "centre_orders" if ".orders." in topic else topic.rsplit(".", 2)[-2] if "." in topic else topic


class DatabaseGauges:
    """Reads counts for the gauges and new audit rows for the duration histograms, in one transaction.

    Only the leader runs it (one replica), so sums across replicas count each audit row once;
    a restart starts after the newest audit row, never recounting history.
    """

    def __init__(self, metrics: RouterMetrics) -> None:
        self._m = metrics
        self._last_event: int | None = None
        self._towns_states: set[tuple[str, str]] = set()

    def refresh(self, conn: Connection, now: datetime) -> None:
        m = self._m
        m.outbox_backlog.set(ledger.outbox_backlog(conn))
        oldest = conn.scalar(select(func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None)))
        m.outbox_oldest_seconds.set(_age(oldest, now))
        inbox = views.inbox_summary(conn)
        m.reviews_waiting.set(inbox["reviews_waiting"])
        m.review_oldest_seconds.set(_age(inbox["review_oldest_at"], now))
        m.dead_letters_waiting.set(inbox["dead_letters_waiting"])
        m.dead_letter_oldest_seconds.set(_age(inbox["dead_letter_oldest_at"], now))
        pending, queued = notifications.pending_figures(conn)
        m.webhook_pending.set(pending)
        m.webhook_oldest_seconds.set(_age(queued, now))
        counts = conn.execute(
            select(work_orders.c.town_code, work_orders.c.state, func.count())
            .where(work_orders.c.state.not_in(sorted(FINISHED)))
            .group_by(work_orders.c.town_code, work_orders.c.state)).all()
        seen = set()
        for town, state, n in counts:
            m.open_orders.labels(town, state).set(n)
            seen.add((town, state))
        for town, state in self._towns_states - seen:
            m.open_orders.labels(town, state).set(0)
        self._towns_states |= seen
        self._audit(conn)

    def _audit(self, conn: Connection) -> None:
        if self._last_event is None:
            self._last_event = conn.scalar(select(func.max(order_events.c.id))) or 0
            return
        rows = conn.execute(
            select(order_events.c.id, order_events.c.kind, order_events.c.at, order_events.c.details,
                   work_orders.c.town_code, work_orders.c.opened_at, work_orders.c.acknowledge_due)
            .join(work_orders, work_orders.c.order_id == order_events.c.order_id)
            .where(order_events.c.id > self._last_event, order_events.c.accepted.is_(True))
            .order_by(order_events.c.id).limit(10_000)).all()
        self.observe(rows)
        if rows:
            self._last_event = rows[-1].id

    def observe(self, rows: Iterable) -> None:
        m = self._m
        for row in rows:
            kind = row.kind
            if kind == "acknowledge":
                m.acknowledge_seconds.labels(row.town_code).observe(_seconds(row.opened_at, row.at))
                due = row.acknowledge_due
                on_time = due is None or _aware(row.at) <= _aware(due)
                m.acknowledgements.labels(row.town_code, "true" if on_time else "false").inc()
            elif kind == "report":
                m.report_seconds.labels(row.town_code).observe(_seconds(row.opened_at, row.at))
            elif (effect := parse_effect_kind(kind)) is not None:
                stage, sla_kind = effect
                unit = (row.details or {}).get("unit_code") or row.town_code
                m.sla_events.labels(unit, stage.value, sla_kind).inc()


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _age(since: datetime | None, now: datetime) -> float:
    return _seconds(since, now) if since else 0.0


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (_aware(end) - _aware(start)).total_seconds())
