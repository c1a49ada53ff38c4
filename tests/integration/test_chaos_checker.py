"""The chaos checker (tests/chaos/checker.py) finds what it is there to find: a clean run passes, and each
anomaly planted in the real database or on the real topics afterwards is reported in its own category."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from kafka import KafkaProducer
from sqlalchemy import delete, func, insert, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import (
    commands,
    dead_letters,
    incidents,
    order_events,
    order_reports,
    outbox,
    sla_timers,
    work_orders,
)
from tests.chaos.checker import (
    CATEGORIES,
    DEAD_LETTERS,
    DUPLICATED,
    LOST,
    MISSED_MERGES,
    TIMERS,
    GroundTruth,
    SentCommand,
    check,
)
from tests.chaos.evidence import EVENT_ID, read_evidence
from tests.chaos.feed import chaos_feed
from tests.integration.support import (
    TEST_START,
    consume_all,
    integration_token,
    moved_clock,
    produce,
    run_clock,
    short_sla_bundle,
    token_header,
    wait_for,
)
from workers.settings import Settings

pytestmark = pytest.mark.integration

SPEED = 120  # every timer of the short bundle is due within 4 s of its order opening
GRACE = timedelta(minutes=20)  # 10 s of real time for the sweep to fire what is due


def _count(engine, query) -> int:
    with engine.connect() as conn:
        return conn.scalar(query) or 0


def _command(order_id: str, key: str) -> bytes:
    return json.dumps({"idempotency_key": key, "order_id": order_id, "action": "acknowledge"}).encode()


def test_a_clean_run_passes_and_every_planted_anomaly_is_reported(broker, make_worker, pg_url, tmp_path):
    bundle_dir = short_sla_bundle(tmp_path / "bundle", acknowledge_minutes=2, report=4, report_unit="minutes",
                                  resolve=6, resolve_unit="minutes")
    clock_env = moved_clock(SPEED)
    worker = make_worker(pg_url, FENGQIAO_JURISDICTION=str(bundle_dir), **clock_env).start()
    topics = Settings(topic_prefix=worker.prefix).topics
    bundle = load_bundle(bundle_dir)
    samples = chaos_feed(bundle, seed=7, size=200, start=TEST_START - timedelta(hours=2))
    truth = GroundTruth.of(samples)
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])

    engine = make_engine(pg_url)
    decided = select(func.count()).select_from(incidents)
    wait_for(lambda: _count(engine, decided) == len(truth.incidents), 90, "every incident decided")
    with engine.connect() as conn:
        order_id, unit = conn.execute(select(work_orders.c.order_id, work_orders.c.town_code)
                                      .order_by(work_orders.c.order_id).limit(1)).one()
    key = f"chk-ack-{uuid.uuid4().hex[:8]}"
    token = integration_token(engine, f"chk-{unit}", unit, TEST_START)
    produce(broker.bootstrap, topics.commands, [(order_id.encode(), _command(order_id, key))] * 2, token_header(token))
    sent = [SentCommand(f"kafka:{unit}:{key}", order_id, "acknowledge")]
    wait_for(lambda: _count(engine, select(func.count()).select_from(commands)) == 1, 60, "the command applied")
    pending = select(func.count()).select_from(sla_timers).where(sla_timers.c.status == "pending")
    wait_for(lambda: _count(engine, pending) == 0, 60, "every timer fired or cancelled")
    unpublished = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    wait_for(lambda: _count(engine, unpublished) == 0, 60, "the outbox drained")

    clock = run_clock(clock_env)

    def findings():
        evidence = read_evidence(pg_url, broker.bootstrap, topics)
        return check(evidence, truth, bundle.loop.merge, clock.now(), sent, GRACE, logs=[worker.log_path])

    clean = findings()
    assert clean.clean, clean.examples()

    planted = _plant(engine, broker.bootstrap, topics.workorder_events)
    found = findings()
    engine.dispose()
    assert {c: found.count(c) for c in CATEGORIES} == {c: int(c in planted) for c in CATEGORIES}, found.examples()
    for category, what in planted.items():
        assert what in found.anomalies[category][0], (category, what, found.anomalies[category])


def _plant(engine, bootstrap: str, events_topic: str) -> dict[str, str]:
    """One anomaly of each kind, as a faulty engine would leave it; the id each finding must name."""
    with engine.begin() as conn:
        police = conn.scalar(select(incidents.c.incident_id).where(incidents.c.outcome == "police")
                             .order_by(incidents.c.incident_id).limit(1))
        conn.execute(delete(incidents).where(incidents.c.incident_id == police))

        fingerprint = conn.scalar(select(dead_letters.c.fingerprint).order_by(dead_letters.c.fingerprint).limit(1))
        conn.execute(delete(dead_letters).where(dead_letters.c.fingerprint == fingerprint))

        effect = conn.execute(select(order_events).where(order_events.c.kind.like("sla.%"))
                              .order_by(order_events.c.id).limit(1)).one()._asdict()
        del effect["id"]
        conn.execute(insert(order_events).values({**effect, "event_id": str(uuid.uuid4())}))

        # 并单 missed: a merged report given an order of its own, as a second worker that did not see the
        # first order would have opened it.
        repeat, into = conn.execute(
            select(order_reports.c.incident_id, order_reports.c.order_id)
            .join(work_orders, work_orders.c.order_id == order_reports.c.order_id)
            .where(order_reports.c.incident_id != work_orders.c.incident_id)
            .order_by(order_reports.c.incident_id).limit(1)).one()
        order = conn.execute(select(work_orders).where(work_orders.c.order_id == into)).one()._asdict()
        conn.execute(insert(work_orders).values({**order, "order_id": "WOPLANTED000001", "incident_id": repeat}))

    dispatched = next(r for r in consume_all(bootstrap, events_topic, idle_s=1.0) if json.loads(r.value)["event_type"]
                      == "workorder.dispatched")
    body = json.loads(dispatched.value)
    twin_id = str(uuid.uuid4())
    body.update(event_id=twin_id, order_id="WOPLANTED000002")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(events_topic, key=b"WOPLANTED000002", value=json.dumps(body).encode(),
                  headers=[(EVENT_ID, twin_id.encode())])
    producer.flush()
    producer.close()
    return {LOST: police, DEAD_LETTERS: fingerprint[:12], TIMERS: effect["order_id"], MISSED_MERGES: "WOPLANTED000001",
            DUPLICATED: body["incident"]["source_id"]}

