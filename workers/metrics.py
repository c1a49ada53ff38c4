"""Prometheus metrics of the router, declared once and handed to whoever records them."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class RouterMetrics:
    registry: CollectorRegistry
    incidents: Counter
    dead_letters: Counter
    decisions: Counter
    batch_seconds: Histogram
    retries: Counter
    outbox_backlog: Gauge
    published: Counter
    commands: Counter
    sla_effects: Counter
    sweep_lateness: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> RouterMetrics:
        r = registry or CollectorRegistry()
        return cls(
            registry=r,
            incidents=Counter("fengqiao_incidents", "Feed records by outcome.", ["source", "outcome"], registry=r),
            dead_letters=Counter("fengqiao_dead_letters", "Dead-lettered feed records by reason.", ["reason"],
                                 registry=r),
            decisions=Counter("fengqiao_routing_decisions", "Routing decisions by outcome and town.",
                              ["outcome", "town"], registry=r),
            batch_seconds=Histogram("fengqiao_intake_batch_seconds", "Time to route and commit one batch.",
                                    registry=r),
            retries=Counter("fengqiao_transient_retries", "Retries after a database or broker error.", ["stage"],
                            registry=r),
            outbox_backlog=Gauge("fengqiao_outbox_backlog", "Events committed but not yet published.", registry=r),
            commands=Counter("fengqiao_commands", "Work-order commands by outcome.", ["status"], registry=r),
            sla_effects=Counter("fengqiao_sla_effects", "Warnings, breaches and escalations fired.", registry=r),
            sweep_lateness=Histogram("fengqiao_sweep_lateness_seconds", "How late the sweep fired a due timer.",
                                     buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=r),
            published=Counter("fengqiao_outbox_published", "Events published by the outbox relay.", ["topic_kind"],
                              registry=r),
        )
