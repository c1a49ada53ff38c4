"""Delivering webhook notifications (notify.csv) at least once, each with its Idempotency-Key.

Every worker runs the loop. A notification is leased while its POST is in flight (SKIP LOCKED
on PostgreSQL), so two workers never send it at the same time; a worker that dies mid-POST
leaves a lease that expires, and the notification is sent again: the gateway de-duplicates by
the `Idempotency-Key` header. A 2xx answer delivers it; any other answer, a timeout or a
refused connection is a failed attempt, retried after the policy's delay (doubling up to a
cap), until the notification is older than the policy's maximum age: then it is given up.
Either way it is counted by unit and event. Logs name the webhook and the notification,
never its URL (it may hold a token) or its body.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from router.domain.notify import ENV_REFERENCE, RetryPolicy, Webhooks
from router.store import notifications
from workers.metrics import RouterMetrics

log = structlog.get_logger("fengqiao.webhooks")

Post = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
"""POST `body` with `headers` to a URL; the HTTP status, or an exception when there was no answer."""

SIGNATURE_HEADER = "X-Fengqiao-Signature"
IDLE_S = 1.0  # between looks at the queue while nothing is due


class WebhookSetupError(Exception):
    """A webhook of the bundle needs an environment variable the worker was not given."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str
    secret: bytes | None


def resolve_endpoints(webhooks: Webhooks, environ: Mapping[str, str]) -> dict[str, Endpoint]:
    """Each webhook's URL with its ${NAME} references filled in, and its secret; every missing variable named."""
    missing = sorted({name for hook in webhooks.hooks for name in hook.variables() if not environ.get(name)})
    if missing:
        raise WebhookSetupError(f"notify.csv needs the environment variables {', '.join(missing)}")
    return {hook.key: Endpoint(ENV_REFERENCE.sub(lambda m: environ[m.group(1)], hook.url),
                               environ[hook.secret_env].encode() if hook.secret_env else None)
            for hook in webhooks.hooks}


def signature(secret: bytes, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def http_post(client: httpx.AsyncClient) -> Post:
    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        return (await client.post(url, content=body, headers=headers)).status_code
    return post


@dataclass(frozen=True, slots=True)
class _Attempt:
    row: dict
    error: str | None  # None: delivered


class WebhookDelivery:
    def __init__(self, engine: Engine, endpoints: Mapping[str, Endpoint], post: Post, clock: Callable[[], datetime],
                 metrics: RouterMetrics, policy: RetryPolicy, batch: int = 50, lease_s: float = 60.0) -> None:
        self._engine = engine
        self._endpoints = endpoints
        self._post = post
        self._clock = clock
        self._metrics = metrics
        self._policy = policy
        self._batch = batch
        self._lease = timedelta(seconds=lease_s)

    async def deliver_due(self) -> int:
        """Send one leased batch of due notifications and record each attempt; how many were tried."""
        rows = await asyncio.to_thread(self._claim)
        if rows:
            attempts = await asyncio.gather(*(self._attempt(row) for row in rows))
            await asyncio.shield(asyncio.to_thread(self._settle, attempts))
        return len(rows)

    async def run(self, stopping: Callable[[], bool], max_delay_s: float) -> None:
        """Deliver until `stopping()`; a database error waits (0.1 s doubling to `max_delay_s`), rows stay queued."""
        delay = 0.1
        while not stopping():
            try:
                tried = await self.deliver_due()
                delay = 0.1
            except DBAPIError as error:
                self._metrics.retries.labels("webhooks").inc()
                self._metrics.database_errors.labels("webhooks").inc()
                log.warning("webhooks_retry", error=type(error).__name__, delay_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay_s)
                continue
            if tried < self._batch:
                await asyncio.sleep(IDLE_S)

    def _claim(self) -> list[dict]:
        now = self._clock()
        with self._engine.begin() as conn:
            return notifications.claim_due(conn, now, now + self._lease, self._batch)

    async def _attempt(self, row: dict) -> _Attempt:
        endpoint = self._endpoints.get(row["webhook"])
        if endpoint is None:
            return _Attempt(row, "webhook no longer in notify.csv")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": row["notification_id"],
                   "X-Fengqiao-Event": row["event"], "X-Fengqiao-Attempt": str(row["attempts"] + 1),
                   "User-Agent": "fengqiao-notify/1"}
        if endpoint.secret is not None:
            headers[SIGNATURE_HEADER] = signature(endpoint.secret, row["body"])
        try:
            status = await self._post(endpoint.url, row["body"], headers)
        except (httpx.HTTPError, OSError) as error:
            return _Attempt(row, type(error).__name__)
        return _Attempt(row, None if 200 <= status < 300 else f"HTTP {status}")

    def _settle(self, attempts: list[_Attempt]) -> None:
        """Record every attempt in one transaction, then count and log them (a failed commit counts nothing:
        the rows stay leased, and are tried again once the lease ends)."""
        now = self._clock()
        outcomes = []
        with self._engine.begin() as conn:
            for attempt in attempts:
                row, tries = attempt.row, attempt.row["attempts"] + 1
                if attempt.error is None:
                    status, retry_at = notifications.DELIVERED, None
                else:
                    sent = row["webhook"] in self._endpoints
                    retry_at = self._policy.next_attempt(tries, row["created_at"], now) if sent else None
                    status = notifications.PENDING if retry_at else notifications.GIVEN_UP
                notifications.settle(conn, row["id"], tries, now, status=status, next_attempt_at=retry_at,
                                     error=attempt.error)
                outcomes.append((attempt, tries, status, retry_at))
        for attempt, tries, status, retry_at in outcomes:
            row = attempt.row
            labels = (row["webhook"].split("/", 1)[0], row["event"])
            context = {"webhook": row["webhook"], "notification_id": row["notification_id"],
                       "notify_event": row["event"], "order_id": row["order_id"], "attempts": tries,
                       "error": attempt.error}
            if status == notifications.DELIVERED:
                self._metrics.webhook_delivered.labels(*labels).inc()
                log.info("webhook_delivered", **context)
                continue
            if row["webhook"] in self._endpoints:
                self._metrics.webhook_failed.labels(*labels).inc()
            if status == notifications.GIVEN_UP:
                self._metrics.webhook_given_up.labels(*labels).inc()
                log.error("webhook_given_up", **context)
            else:
                log.warning("webhook_failed", **context, retry_at=retry_at.isoformat())
