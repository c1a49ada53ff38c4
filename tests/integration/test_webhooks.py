"""Webhook notifications on real PostgreSQL to a real HTTP server on 127.0.0.1.

The gateway fails its first calls; the notification is retried (at least once in transport)
and the receiver, de-duplicating by Idempotency-Key, holds it exactly once; the counters move.
The clock is a test clock moved by hand, so backoff is stepped through without waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from router.bundle import load_bundle
from router.commands import CommandHandler
from router.dead_letters import FeedRecord
from router.domain.notify import RetryPolicy
from router.domain.routing import Router
from router.intake import Intake
from router.notifications import Notifier
from router.store import notifications as queue
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import notifications
from router.sweep import Sweep
from schemas.command import WorkOrderCommandV1
from schemas.notification import NotificationV1
from schemas.topics import Topics
from tests.integration.api_support import MovableClock
from tests.integration.support import XIAOSHAN
from workers.metrics import RouterMetrics
from workers.webhooks import SIGNATURE_HEADER, WebhookDelivery, http_post, resolve_endpoints

pytestmark = pytest.mark.integration

XINTANG, BEIGAN, DISTRICT = "330109004", "330109002", "330109"
SECRET = "s3cret-for-tests"
POLICY = RetryPolicy(first=timedelta(seconds=10), cap=timedelta(seconds=40), max_age=timedelta(minutes=5))


@dataclass
class Gateway:
    """An SMS gateway stand-in: answers 503 to its first `failures` calls, then 200; keeps one copy per key."""

    failures: int = 0
    calls: list[dict] = field(default_factory=list)
    received: dict[str, dict] = field(default_factory=dict)  # by Idempotency-Key: the receiver's de-dup
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.calls.append({"path": path, "headers": headers, "body": body})
            if path.startswith("/down") or len(self.calls) <= self.failures:
                return 503
            self.received.setdefault(headers["idempotency-key"], json.loads(body))
            return 200


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def bundle_with_webhooks(target: Path) -> Path:
    shutil.copytree(XIAOSHAN, target)
    (target / "notify.csv").write_text(
        "unit_code,name,url,events,secret_env\n"
        f"{XINTANG},sms,${{GATEWAY}}/sms/xintang,new_order|warning|breach,XINTANG_SECRET\n"
        f"{BEIGAN},sms,${{GATEWAY}}/sms/beigan,new_order,\n"
        f"{DISTRICT},zzd,${{GATEWAY}}/down/district,escalation|breach,\n", encoding="utf-8")
    return target


def open_order(router: Router, engine: Engine, clock: MovableClock, source_id: str) -> str:
    incident = {"source_id": source_id, "received_at": clock().isoformat(), "channel": "phone",
                "summary": "王小明报警：楼上装修噪音扰民，持续到深夜，回电13912345678", "address": "萧山区新塘街道傅楼村12号",
                "caller": {"name": "王小明", "phone": "13912345678"}}
    result = Intake(router, engine.begin, Topics(), 65_536).handle(
        [FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], clock())
    assert result.routed[0].order_id and result.routed[0].town_code == XINTANG, result.routed[0]
    return result.routed[0].order_id


def deliver(engine: Engine, endpoints: dict, clock: MovableClock, metrics: RouterMetrics) -> int:
    async def once() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            return await WebhookDelivery(engine, endpoints, http_post(client), clock, metrics, POLICY).deliver_due()
    return asyncio.run(once())


def counter(metrics: RouterMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"fengqiao_webhook_{name}_total", labels) or 0.0


def rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(notifications).order_by(notifications.c.id))]


def test_a_new_order_reaches_the_gateway_once_after_failed_attempts(engine, gateway, tmp_path):
    receiver, base = gateway
    jurisdiction = load_bundle(bundle_with_webhooks(tmp_path / "bundle"))
    endpoints = resolve_endpoints(jurisdiction.webhooks, {"GATEWAY": base, "XINTANG_SECRET": SECRET})
    clock, metrics = MovableClock(), RouterMetrics.create().prime_webhooks(jurisdiction.webhooks)
    order_id = open_order(Router(jurisdiction), engine, clock, "WH-000001")

    # Queued with the order: 新塘 wants new orders; the district's webhook wants only escalations and breaches.
    queued = rows(engine)
    assert [(r["webhook"], r["event"], r["status"]) for r in queued] == [(f"{XINTANG}/sms", "new_order", "pending")]

    # Two 503s, each retried after the policy's delay (10 s, then 20 s); nothing is due in between.
    assert deliver(engine, endpoints, clock, metrics) == 1
    assert deliver(engine, endpoints, clock, metrics) == 0
    clock.advance(timedelta(seconds=10))
    assert deliver(engine, endpoints, clock, metrics) == 1
    clock.advance(timedelta(seconds=19))
    assert deliver(engine, endpoints, clock, metrics) == 0
    clock.advance(timedelta(seconds=1))
    assert deliver(engine, endpoints, clock, metrics) == 1
    clock.advance(timedelta(minutes=10))
    assert deliver(engine, endpoints, clock, metrics) == 0  # delivered: never sent again

    assert len(receiver.calls) == 3
    keys = {call["headers"]["idempotency-key"] for call in receiver.calls}
    assert keys == {queued[0]["notification_id"]} and list(receiver.received) == [queued[0]["notification_id"]]
    assert [call["headers"]["x-fengqiao-attempt"] for call in receiver.calls] == ["1", "2", "3"]
    for call in receiver.calls:
        assert call["path"] == "/sms/xintang"
        expected = "sha256=" + hmac.new(SECRET.encode(), call["body"], hashlib.sha256).hexdigest()
        assert call["headers"][SIGNATURE_HEADER.lower()] == expected
        assert call["body"] == queued[0]["body"]  # the same bytes every time, so the same signature

    body = NotificationV1.model_validate(receiver.received[queued[0]["notification_id"]])
    assert (body.event, body.order_id, body.town_name, body.unit_code) == ("new_order", order_id, "新塘街道", XINTANG)
    assert body.title == "新工单" and body.text.startswith(f"【枫桥】新塘街道新工单{order_id}")
    raw = receiver.calls[-1]["body"].decode()
    assert "王小明" not in raw and "13912345678" not in raw and "王**" in body.summary and "139****5678" in raw

    assert counter(metrics, "failed", unit=XINTANG, event="new_order") == 2
    assert counter(metrics, "delivered", unit=XINTANG, event="new_order") == 1
    assert counter(metrics, "given_up", unit=XINTANG, event="new_order") == 0
    [row] = rows(engine)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 3, None)


def test_sla_effects_are_queued_by_the_sweep_and_an_unreachable_gateway_is_given_up(engine, gateway, tmp_path):
    receiver, base = gateway
    receiver.failures = 0
    jurisdiction = load_bundle(bundle_with_webhooks(tmp_path / "bundle"))
    endpoints = resolve_endpoints(jurisdiction.webhooks, {"GATEWAY": base, "XINTANG_SECRET": SECRET})
    clock, metrics = MovableClock(), RouterMetrics.create().prime_webhooks(jurisdiction.webhooks)
    open_order(Router(jurisdiction), engine, clock, "WH-000002")
    assert deliver(engine, endpoints, clock, metrics) == 1  # the new order

    # Past the 30-minute 签收 deadline: warnings at 50 % and 80 %, the breach and its 催办 fire in one sweep.
    clock.advance(timedelta(minutes=31))
    assert Sweep(engine, Topics(), notifier=Notifier(jurisdiction)).tick(clock()).fired == 4
    events = sorted((r["webhook"], r["event"]) for r in rows(engine) if r["status"] == "pending")
    assert events == [(f"{DISTRICT}/zzd", "breach"), (f"{DISTRICT}/zzd", "escalation"), (f"{XINTANG}/sms", "breach"),
                      (f"{XINTANG}/sms", "warning"), (f"{XINTANG}/sms", "warning")]
    assert deliver(engine, endpoints, clock, metrics) == 5
    titles = sorted(n["title"] for n in receiver.received.values())
    assert titles == ["新工单", "签收超时", "签收预警50%", "签收预警80%"]

    # The district's gateway is down: retried at 10, 20, 40, 40 ... s until five minutes old, then given up.
    attempts = 1
    while any(r["status"] == "pending" for r in rows(engine)):
        clock.advance(timedelta(seconds=40))
        attempts += deliver(engine, endpoints, clock, metrics)
        assert attempts < 20, "never given up"
    for district in (r for r in rows(engine) if r["webhook"] == f"{DISTRICT}/zzd"):
        assert (district["status"], district["last_error"]) == ("given_up", "HTTP 503")
        assert counter(metrics, "given_up", unit=DISTRICT, event=district["event"]) == 1
        assert counter(metrics, "failed", unit=DISTRICT, event=district["event"]) == district["attempts"] > 2
        assert district["settled_at"] - district["created_at"] <= POLICY.max_age
    assert counter(metrics, "delivered", unit=XINTANG, event="warning") == 2


def test_a_leased_notification_is_not_claimed_twice_and_is_claimed_again_after_a_crash(engine, tmp_path):
    jurisdiction = load_bundle(bundle_with_webhooks(tmp_path / "bundle"))
    clock = MovableClock()
    open_order(Router(jurisdiction), engine, clock, "WH-000003")
    lease = timedelta(seconds=60)
    with engine.begin() as first, engine.begin() as second:
        claimed = queue.claim_due(first, clock(), clock() + lease, 10)
        # The first worker's transaction still holds the row: SKIP LOCKED passes over it.
        assert len(claimed) == 1 and queue.claim_due(second, clock(), clock() + lease, 10) == []
    with engine.begin() as conn:
        assert queue.claim_due(conn, clock(), clock() + lease, 10) == []  # leased, in flight
    clock.advance(lease + timedelta(seconds=1))  # that worker died mid-POST: its lease ran out
    with engine.begin() as conn:
        again = queue.claim_due(conn, clock(), clock() + lease, 10)
    assert [r["notification_id"] for r in again] == [claimed[0]["notification_id"]]
    with engine.connect() as conn:
        assert queue.pending_figures(conn) == (1, rows(engine)[0]["created_at"])


def test_a_transferred_order_is_new_to_the_town_that_receives_it(engine, tmp_path):
    jurisdiction = load_bundle(bundle_with_webhooks(tmp_path / "bundle"))
    clock = MovableClock()
    order_id = open_order(Router(jurisdiction), engine, clock, "WH-000004")
    command = WorkOrderCommandV1(idempotency_key="transfer-WH-000004", order_id=order_id, action="transfer",
                                 target_town=BEIGAN,
                                 actor={"user_id": "qu-dd", "role": "district_dispatcher", "unit_code": DISTRICT})
    handler = CommandHandler(jurisdiction, engine.begin, Topics())
    assert handler.handle(command, clock()).status == "accepted"
    assert handler.handle(command, clock()).status == "duplicate"  # a repeated command queues nothing more
    queued = [(r["webhook"], r["event"]) for r in rows(engine)]
    assert queued == [(f"{XINTANG}/sms", "new_order"), (f"{BEIGAN}/sms", "new_order")]
    body = NotificationV1.model_validate_json(rows(engine)[1]["body"])
    assert (body.town_code, body.town_name, body.order_id) == (BEIGAN, "北干街道", order_id)
    assert "王小明" not in body.summary and "13912345678" not in body.summary
