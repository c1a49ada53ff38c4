"""Prometheus metrics of the API, declared once; `/metrics` on the API serves them.

Labels are bounded: the route template (`/api/v1/orders/{order_id}`), never the order id.
The bounded label sets that appear only after an event (a failed login, a denial) are created
at 0 up front, so alerts and panels see zeros rather than no series.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
LOGIN_OUTCOMES = ("ok", "failed", "throttled", "busy")
DENIAL_STATUSES = ("401", "403", "404")


@dataclass(frozen=True)
class ApiMetrics:
    registry: CollectorRegistry
    requests: Counter
    request_seconds: Histogram
    denials: Counter
    logins: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> ApiMetrics:
        r = registry or CollectorRegistry()
        return cls(
            registry=r,
            requests=Counter("fengqiao_api_requests_total", "API requests by route template, method and status.",
                             ["route", "method", "status"], registry=r),
            request_seconds=Histogram("fengqiao_api_request_seconds", "API request duration by route template.",
                                      ["route"], buckets=_LATENCY_BUCKETS, registry=r),
            denials=Counter("fengqiao_api_denials_total",
                            "Requests refused for identity or scope (401, 403, 404 on an order in scope checks).",
                            ["status"], registry=r),
            logins=Counter("fengqiao_api_logins_total", "Password logins by outcome.", ["outcome"], registry=r),
        ).prime()

    def prime(self) -> ApiMetrics:
        """Create the bounded label sets at 0 (routes appear with their first request)."""
        for outcome in LOGIN_OUTCOMES:
            self.logins.labels(outcome)
        for status in DENIAL_STATUSES:
            self.denials.labels(status)
        return self
