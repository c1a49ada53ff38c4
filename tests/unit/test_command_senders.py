"""Kafka commands run as the integration account whose token the record carries, on SQLite."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.identity import Identity, LoginPolicy
from router.command_senders import TOKEN_HEADER
from router.commands import CommandHandler, kafka_key
from router.domain.lifecycle import Role
from router.intake import FeedRecord
from router.store import accounts
from router.store.tables import commands, dead_letters, order_events, work_orders
from schemas.command import WorkOrderCommandV1
from tests.unit.test_commands import NOW, XINTANG, events, setup  # noqa: F401 - setup is a fixture

OTHER_TOWN = "330109002"


@pytest.fixture
def tokens(setup):  # noqa: F811 - the fixture imported above
    engine, handler, order_id = setup
    identity = Identity(engine.begin, LoginPolicy())
    issued = {}
    for user_id, role, unit in (("xt-system", Role.INTEGRATION, XINTANG), ("gl-system", Role.INTEGRATION, OTHER_TOWN),
                                ("xt-operator", Role.TOWN_OPERATOR, XINTANG)):
        identity.add_user(user_id, user_id, role, unit, None, NOW)
        issued[user_id] = identity.issue_token(user_id, "test", NOW)
    return engine, handler, order_id, issued


def send(handler: CommandHandler, body: dict, token: str | None = None, *more: tuple[str, bytes]):
    headers = ((TOKEN_HEADER, token.encode()),) if token else ()
    record = FeedRecord(json.dumps(body).encode(), None, "workorders.commands.v1", 0, 0, headers + more)
    [outcome] = handler.handle_records([record], NOW, 65_536)
    return outcome


def ack(order_id: str, key: str = "town-key-0001", **extra) -> dict:
    return {"idempotency_key": key, "order_id": order_id, "action": "acknowledge", **extra}


def state(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(work_orders.c.state)).scalar_one()


def test_the_command_runs_as_the_account_of_its_token_in_that_units_key_namespace(tokens):
    engine, handler, order_id, issued = tokens
    outcome = send(handler, ack(order_id), issued["xt-system"])
    assert (outcome.status, state(engine)) == ("accepted", "acknowledged")
    with engine.connect() as conn:
        audit = conn.execute(select(order_events)).one()
        keys = list(conn.scalars(select(commands.c.idempotency_key)))
    assert (audit.actor_user, audit.actor_role, audit.actor_unit) == ("xt-system", "integration", XINTANG)
    assert audit.details["source"] == "kafka"
    assert keys == [f"kafka:{XINTANG}:town-key-0001"]
    assert events(engine)[-1]["idempotency_key"] == f"kafka:{XINTANG}:town-key-0001"
    assert send(handler, ack(order_id), issued["xt-system"]).status == "duplicate"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        pytest.param(None, "no fengqiao-token header", id="no-token"),
        pytest.param("fq_" + "x" * 43, "unknown, revoked or expired token", id="unknown-token"),
        pytest.param("Bearer nonsense", "no Fengqiao token", id="not-a-token"),
        pytest.param("xt-operator", "not an integration account", id="a-persons-token"),
    ],
)
def test_a_command_no_integration_account_sent_is_dead_lettered_answered_and_never_applied(tokens, token, why):
    engine, handler, order_id, issued = tokens
    body = ack(order_id, actor={"user_id": "ghost-admin", "role": "admin", "unit_code": "330109"})
    outcome = send(handler, body, issued.get(token, token))
    assert (outcome.status, outcome.code) == ("dead_letter", "unauthenticated") and why in outcome.reason
    assert state(engine) == "dispatched"
    with engine.connect() as conn:
        [letter] = conn.execute(select(dead_letters)).all()
        assert not conn.execute(select(order_events)).all()
    assert letter.reason == "unauthenticated" and why in letter.detail
    assert all(not t.startswith("fq_") or t not in letter.detail for t in issued.values())
    answer = events(engine)[-1]
    assert (answer["event_type"], answer["details"]["code"], answer["actor"]) == \
        ("workorder.command_rejected", "unauthenticated", None)


def test_two_token_headers_are_refused(tokens):
    engine, handler, order_id, issued = tokens
    outcome = send(handler, ack(order_id), issued["xt-system"], (TOKEN_HEADER, issued["gl-system"].encode()))
    assert outcome.code == "unauthenticated" and "more than one" in outcome.reason


def test_an_expired_token_no_longer_sends(tokens):
    engine, handler, order_id, _ = tokens
    identity = Identity(engine.begin, LoginPolicy())
    lapsed = identity.issue_token("xt-system", "lapsed", NOW - timedelta(days=2), timedelta(days=1))
    outcome = send(handler, ack(order_id), lapsed)
    assert outcome.code == "unauthenticated" and "expired" in outcome.reason and state(engine) == "dispatched"


def test_a_revoked_token_or_a_disabled_account_no_longer_sends(tokens):
    engine, handler, order_id, issued = tokens
    with engine.begin() as conn:
        accounts.revoke_tokens(conn, "xt-system", NOW)
    assert send(handler, ack(order_id), issued["xt-system"]).code == "unauthenticated"
    with engine.begin() as conn:
        accounts.set_disabled(conn, "gl-system", True)
    assert send(handler, ack(order_id, "town-key-0002"), issued["gl-system"]).code == "unauthenticated"


@pytest.mark.parametrize(
    "claimed",
    [
        pytest.param({"user_id": "ghost-admin", "role": "admin", "unit_code": "330109"}, id="admin"),
        pytest.param({"user_id": "xt-system", "role": "district_dispatcher", "unit_code": XINTANG}, id="other-role"),
        pytest.param({"user_id": "someone", "role": "integration", "unit_code": XINTANG}, id="other-user"),
    ],
)
def test_a_payload_actor_other_than_the_sender_is_refused_on_the_order(tokens, claimed):
    engine, handler, order_id, issued = tokens
    outcome = send(handler, ack(order_id, actor=claimed), issued["xt-system"])
    assert (outcome.status, outcome.code) == ("rejected", "actor_mismatch")
    assert state(engine) == "dispatched"
    with engine.connect() as conn:
        audit = conn.execute(select(order_events)).one()
    assert (audit.accepted, audit.actor_user, audit.details["source"]) == (False, "xt-system", "kafka")
    assert claimed["user_id"] in events(engine)[-1]["reason"]


def test_the_payload_may_name_its_sender_exactly(tokens):
    engine, handler, order_id, issued = tokens
    me = {"user_id": "xt-system", "role": "integration", "unit_code": XINTANG}
    assert send(handler, ack(order_id, actor=me), issued["xt-system"]).status == "accepted"


def test_another_towns_system_cannot_act_on_this_towns_order(tokens):
    engine, handler, order_id, issued = tokens
    outcome = send(handler, ack(order_id), issued["gl-system"])
    assert (outcome.status, outcome.code) == ("rejected", "other_town")
    assert state(engine) == "dispatched"


def test_kafka_keys_never_meet_the_apis_or_another_units(tokens):
    engine, handler, order_id, issued = tokens
    http_key = f"api:{XINTANG}:retry-0001"
    # Another town pre-empting the town's HTTP key, and its own key value: neither is the town's.
    assert send(handler, ack(order_id, http_key), issued["gl-system"]).code == "other_town"
    assert send(handler, ack(order_id, "town-key-0001"), issued["gl-system"]).code == "other_town"
    town = WorkOrderCommandV1(idempotency_key=http_key, order_id=order_id, action="acknowledge",
                              actor={"user_id": "xt-op", "role": "town_operator", "unit_code": XINTANG})
    assert handler.handle(town, NOW).status == "accepted"
    assert state(engine) == "acknowledged"


def test_a_key_too_long_for_its_namespace_keeps_a_digest():
    long_key = "k" * 128
    assert kafka_key(XINTANG, "short-key") == f"kafka:{XINTANG}:short-key"
    namespaced = kafka_key(XINTANG, long_key)
    assert len(namespaced) <= 128 and namespaced.startswith(f"kafka:{XINTANG}:sha256:")
    assert namespaced != kafka_key(XINTANG, "k" * 127)
