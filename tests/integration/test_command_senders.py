"""Forged commands on Tansu and PostgreSQL (issue 11): refused and audited, the order unchanged; the town
system's own token is accepted, and its Kafka keys never meet the API's."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from router.bundle import load_bundle
from router.commands import CommandHandler
from router.store.database import make_engine
from router.store.tables import access_log, dead_letters, order_events, work_orders
from schemas.command import WorkOrderCommandV1
from tests.integration.support import TEST_START, integration_token, moved_clock, produce, token_header, wait_for
from workers.settings import Settings

pytestmark = pytest.mark.integration

XINTANG, GUALI = "330109004", "330109011"


def _ack(order_id: str, key: str, **extra) -> bytes:
    return json.dumps({"idempotency_key": key, "order_id": order_id, "action": "acknowledge", **extra}).encode()


def test_forged_commands_are_refused_and_audited_and_the_town_systems_own_is_accepted(broker, make_worker, pg_url):
    worker = make_worker(pg_url, **moved_clock()).start()
    topics = Settings(topic_prefix=worker.prefix).topics
    incident = {"source_id": f"S{uuid.uuid4().hex[:8]}", "received_at": (TEST_START - timedelta(minutes=5)).isoformat(),
                "channel": "phone", "summary": "楼上邻居深夜装修，噪音扰民", "address": "萧山区新塘街道傅楼村12号",
                "caller": {"name": "张伟", "phone": "13800000001"}}
    produce(broker.bootstrap, topics.incidents, [(None, json.dumps(incident, ensure_ascii=False).encode())])
    engine = make_engine(pg_url)

    def orders():
        with engine.connect() as conn:
            return list(conn.execute(select(work_orders)))

    wait_for(lambda: len(orders()) == 1, 120, "the order opened")
    [order] = orders()
    assert order.town_code == XINTANG
    xintang = token_header(integration_token(engine, "xintang-system", XINTANG, TEST_START))
    guali = token_header(integration_token(engine, "guali-system", GUALI, TEST_START))
    key = order.order_id.encode()
    ghost = {"user_id": "ghost-admin", "role": "admin", "unit_code": "330109"}
    http_key = f"api:{XINTANG}:retry-0001"
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, "forged-0001", actor=ghost))])  # no token
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, "forged-0002"))],
            token_header("fq_" + "0" * 43))  # unknown token
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, "forged-0003"))], guali)  # another town
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, "forged-0004", actor=ghost))], xintang)
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, http_key))], guali)  # the town's HTTP key
    wait_for(lambda: worker.metric("fengqiao_commands_total", status="dead_letter") == 2
             and worker.metric("fengqiao_commands_total", status="rejected") == 3, 90, "five refusals")

    assert orders()[0].state == "dispatched" and orders()[0].generation == order.generation
    with engine.connect() as conn:
        audit = list(conn.execute(select(order_events).order_by(order_events.c.id)))
        letters = list(conn.execute(select(dead_letters)))
    assert [(a.accepted, a.actor_user, a.details["code"], a.details["source"]) for a in audit] == [
        (False, "guali-system", "other_town", "kafka"),
        (False, "xintang-system", "actor_mismatch", "kafka"),
        (False, "guali-system", "other_town", "kafka"),
    ]
    assert sorted(r.reason for r in letters) == ["unauthenticated"] * 2
    assert {r.source_topic for r in letters} == {topics.commands}

    # The town system's own token: accepted, as itself, even with a key the shape of the town's HTTP keys.
    produce(broker.bootstrap, topics.commands, [(key, _ack(order.order_id, http_key))], xintang)
    wait_for(lambda: orders()[0].state == "acknowledged", 60, "签收 by the town system")
    with engine.connect() as conn:
        accepted = conn.execute(select(order_events).where(order_events.c.accepted.is_(True))).one()
    assert (accepted.actor_user, accepted.actor_role, accepted.details["source"]) == \
        ("xintang-system", "integration", "kafka")
    # Every delivery is in the access log too, with who sent it (nobody, for the two without an account).
    with engine.connect() as conn:
        deliveries = list(conn.execute(select(access_log).where(access_log.c.action == "kafka.acknowledge")
                                       .order_by(access_log.c.id)))
    assert [(d.user_id, d.outcome) for d in deliveries] == [
        (None, "denied"), (None, "denied"), ("guali-system", "rejected"), ("xintang-system", "rejected"),
        ("guali-system", "rejected"), ("xintang-system", "allowed")]
    assert all(d.detail.startswith(f"{topics.commands}/") for d in deliveries)
    # And the town's own HTTP retry with that key is its own command, not a reused key (the API's path).
    handler = CommandHandler(load_bundle(Settings().jurisdiction), engine.begin, topics)
    report = WorkOrderCommandV1(idempotency_key=http_key, order_id=order.order_id, action="report", text="已处理",
                                actor={"user_id": "xt-op", "role": "town_operator", "unit_code": XINTANG})
    assert handler.handle(report, TEST_START).status == "accepted"
    engine.dispose()
