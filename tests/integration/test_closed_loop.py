"""The closed loop on Tansu and PostgreSQL: SLA effects exactly once across a SIGKILL, merged
reports, and commands that are idempotent."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import key_disputes, order_events, order_reports, outbox, sla_timers, work_orders
from tests.integration.support import (
    TEST_START,
    consume_all,
    integration_token,
    moved_clock,
    produce,
    short_sla_bundle,
    token_header,
    wait_for,
)
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration

SPEED = 30  # test seconds per real second


@pytest.fixture
def minute_clocks(tmp_path):
    """The Xiaoshan bundle with minute-long clocks: every stage breaches and escalates within ~20 s."""
    return short_sla_bundle(tmp_path / "bundle", acknowledge_minutes=2, report=4, report_unit="minutes", resolve=6,
                            resolve_unit="minutes")


def _scalar(url: str, query):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(query)
    finally:
        engine.dispose()


def _rows(url: str, query) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def _incidents(n: int, seed: int):
    generator = FeedGenerator(load_bundle(Settings().jurisdiction), seed=seed, invalid_share=0, id_prefix=f"CL{seed}")
    samples = generator.batch(n * 3, TEST_START - timedelta(hours=1))
    return [s for s in samples if s.expected.outcome == "work_order"][:n]


def test_sla_effects_fire_exactly_once_and_never_early_across_a_sigkill(broker, make_worker, pg_url,
                                                                        minute_clocks):
    env = {"FENGQIAO_JURISDICTION": str(minute_clocks), **moved_clock(SPEED)}
    worker = make_worker(pg_url, **env).start()
    samples = _incidents(1000, seed=51)
    produce(broker.bootstrap, Settings(topic_prefix=worker.prefix).topics.incidents,
            [(s.key, s.value) for s in samples])
    orders = 0

    def sweeping() -> bool:
        nonlocal orders
        orders = _scalar(pg_url, select(func.count()).select_from(work_orders))
        fired = _scalar(pg_url, select(func.count()).select_from(sla_timers).where(sla_timers.c.status == "fired"))
        return orders > 500 and fired > 2000

    wait_for(sweeping, 120, "the sweep under way", interval_s=0.2)
    worker.kill()
    pending = _scalar(pg_url, select(func.count()).select_from(sla_timers).where(sla_timers.c.status == "pending"))
    assert pending > 0, "the kill must land while timers are still due"
    make_worker(pg_url, prefix=worker.prefix, **env).start()

    pending = select(func.count()).select_from(sla_timers).where(sla_timers.c.status == "pending")
    wait_for(lambda: _scalar(pg_url, pending) == 0, 180, "every timer fired")

    timers = _rows(pg_url, select(sla_timers))
    effects = _rows(pg_url, select(order_events).where(order_events.c.kind.like("sla.%")))
    assert len({t.order_id for t in timers}) == _scalar(pg_url, select(func.count()).select_from(work_orders))
    per_order = Counter(t.order_id for t in timers)
    assert set(per_order.values()) == {18}, "3 stages x (2 warnings + breach + 3 escalation steps)"
    assert all(t.status == "fired" for t in timers)
    early = [(t.order_id, t.stage, t.kind, t.due_at, t.fired_at) for t in timers if t.fired_at < t.due_at]
    assert not early, f"{len(early)} timers fired early, e.g. {early[:3]}"
    # Exactly once: one audit row per timer, none twice.
    keys = Counter((e.order_id, e.kind, e.details["unit_code"]) for e in effects)
    assert len(effects) == len(timers)
    assert all(count == 1 for count in keys.values())
    # And on Kafka, after de-duplicating redeliveries by event id, one event per timer.
    wait_for(lambda: _scalar(pg_url, select(func.count()).select_from(outbox)
                             .where(outbox.c.published_at.is_(None))) == 0, 120, "the outbox drained")
    events = consume_all(broker.bootstrap, Settings(topic_prefix=worker.prefix).topics.workorder_events)
    sla_events = {json.loads(r.value)["event_id"] for r in events if json.loads(r.value)["event_type"] == "workorder.sla"}
    assert len(sla_events) == len(timers)


def _command(order_id: str, action: str, key: str, **extra) -> bytes:
    body = {"idempotency_key": key, "order_id": order_id, "action": action, **extra}
    return json.dumps(body, ensure_ascii=False).encode()


def test_three_reports_make_one_order_with_three_callers_and_a_repeated_command_changes_it_once(
        broker, make_worker, pg_url):
    worker = make_worker(pg_url, **moved_clock()).start()
    topics = Settings(topic_prefix=worker.prefix).topics
    received = TEST_START - timedelta(minutes=30)
    reports = []
    for i, (name, phone) in enumerate((("张伟", "13800000001"), ("李娜", "13800000002"), ("王芳", "13800000003"))):
        reports.append(json.dumps({
            "source_id": f"M{uuid.uuid4().hex[:8]}-{i}", "received_at": (received + timedelta(minutes=i)).isoformat(),
            "channel": "phone", "summary": "楼上邻居深夜装修，噪音扰民", "address": "萧山区新塘街道傅楼村12号",
            "caller": {"name": name, "phone": phone}}, ensure_ascii=False).encode())
    produce(broker.bootstrap, topics.incidents, [(None, r) for r in reports])
    wait_for(lambda: _scalar(pg_url, select(func.count()).select_from(order_reports)) == 3, 120, "three reports")

    orders = _rows(pg_url, select(work_orders))
    assert len(orders) == 1 and orders[0].reports == 3
    callers = [r.caller["name"] for r in _rows(pg_url, select(order_reports))]
    assert sorted(callers) == ["张伟", "李娜", "王芳"]
    order = orders[0]
    # Three reports within the bundle's 30 days make it a key dispute (重点矛盾纠纷) the town answers for.
    [dispute] = _rows(pg_url, select(key_disputes))
    assert (dispute.order_id, dispute.reports, dispute.responsible_unit) == (order.order_id, 3, "新塘街道")
    assert dispute.resolution_due > dispute.flagged_at

    key = f"ack-{uuid.uuid4().hex}"
    ack = _command(order.order_id, "acknowledge", key)
    engine = make_engine(pg_url)
    town_system = token_header(integration_token(engine, "xintang-system", order.town_code, TEST_START))
    engine.dispose()
    produce(broker.bootstrap, topics.commands, [(order.order_id.encode(), ack), (order.order_id.encode(), ack)],
            town_system)
    wait_for(lambda: _rows(pg_url, select(work_orders))[0].state == "acknowledged", 120, "签收")
    wait_for(lambda: worker.metric("fengqiao_commands_total", status="duplicate") == 1, 60,
             "the repeated command consumed as a duplicate")
    assert worker.metric("fengqiao_commands_total", status="accepted") == 1
    acks = _rows(pg_url, select(order_events).where(order_events.c.kind == "acknowledge"))
    assert len(acks) == 1
    # A second, different acknowledge is illegal now and rejected with a reason naming state and action.
    produce(broker.bootstrap, topics.commands, [(None, _command(order.order_id, "acknowledge", f"ack-{uuid.uuid4().hex}"))],
            town_system)
    wait_for(lambda: len(_rows(pg_url, select(order_events).where(order_events.c.accepted.is_(False)))) == 1, 60,
             "the rejection")
    rejection = _rows(pg_url, select(order_events).where(order_events.c.accepted.is_(False)))[0]
    assert rejection.from_state == "acknowledged"
