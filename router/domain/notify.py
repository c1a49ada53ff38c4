"""Webhook notifications (提醒) for a district's SMS or 浙政钉 gateways: who hears of what, and when to retry.

Rules are data (`notify.csv`): a webhook belongs to a unit — a town, a command centre, or the
district centre — and lists the events it wants. A unit hears of the orders in its scope, as
its operators see them: a town of its own orders, a centre of the orders it receives, the
district centre of every order. A failed delivery is retried later and later (doubling, up to
a cap) until the notification is older than the policy's maximum age; then it is given up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.domain.backoff import doubling


class NotifyEvent(StrEnum):
    NEW_ORDER = "new_order"  # 新工单: dispatched (派单), or handed to another town (改派, 转派)
    WARNING = "warning"  # 预警
    BREACH = "breach"  # 超时
    ESCALATION = "escalation"  # 催办, 督办, 通报


def event_of_sla(sla_kind: str) -> NotifyEvent:
    """The event a fired timer is: warning_80 → warning, breach → breach, escalation.remind → escalation."""
    if sla_kind.startswith("warning_"):
        return NotifyEvent.WARNING
    if sla_kind.startswith("escalation."):
        return NotifyEvent.ESCALATION
    return NotifyEvent.BREACH


# `${NAME}` in a URL: the deployment's environment supplies it (a gateway's token need not be in the bundle).
ENV_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Webhook:
    """One gateway of one unit: where to POST, which events, and the variable holding its signing secret."""

    unit_code: str
    name: str
    url: str  # may hold ${NAME} references, resolved by the worker from its environment
    events: frozenset[NotifyEvent]
    secret_env: str = ""  # the environment variable with the HMAC-SHA256 key; empty: unsigned

    @property
    def key(self) -> str:
        """What a queued notification names its webhook by: the unit and the webhook's name."""
        return f"{self.unit_code}/{self.name}"

    def variables(self) -> tuple[str, ...]:
        """Every environment variable this webhook needs."""
        names = ENV_REFERENCE.findall(self.url)
        return tuple(dict.fromkeys([*names, *([self.secret_env] if self.secret_env else [])]))


@dataclass(frozen=True, slots=True)
class Webhooks:
    """A bundle's webhooks; `district_centre` is the unit whose scope is every order."""

    hooks: tuple[Webhook, ...] = ()
    district_centre: str = ""

    def for_order(self, event: NotifyEvent, town_code: str, centre_code: str) -> tuple[Webhook, ...]:
        """The webhooks that hear of `event` on an order of `town_code` received by `centre_code`."""
        scope = {town_code, centre_code, self.district_centre}
        return tuple(h for h in self.hooks if event in h.events and h.unit_code in scope)

    def by_key(self) -> dict[str, Webhook]:
        return {h.key: h for h in self.hooks}


NO_WEBHOOKS = Webhooks()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Waits between delivery attempts: `first`, doubling up to `cap`; given up past `max_age`."""

    first: timedelta
    cap: timedelta
    max_age: timedelta

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1, 2, ...)."""
        return doubling(self.first, self.cap, attempts - 1)

    def next_attempt(self, attempts: int, created_at: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` failures, or None to give up: the next try would be past `max_age`."""
        at = now + self.delay(attempts)
        return None if at - created_at > self.max_age else at
