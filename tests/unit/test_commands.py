"""Commands on SQLite: accepted, rejected with a reason, duplicates, unknown orders, unreadable records."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from router.commands import CommandHandler
from router.intake import FeedRecord, Intake
from router.store import photos
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import dead_letters, order_events, outbox, work_orders
from schemas.command import WorkOrderCommandV1
from schemas.topics import Topics

NOW = datetime(2026, 11, 30, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
XINTANG = "330109004"


@pytest.fixture
def setup(tmp_path, router, xiaoshan):
    engine = make_engine(f"sqlite:///{tmp_path / 'commands.db'}")
    upgrade(engine)
    incident = {"source_id": "C1", "received_at": NOW.isoformat(), "channel": "phone",
                "summary": "楼上装修噪音扰民", "address": "萧山区新塘街道"}
    result = Intake(router, engine.begin, Topics(), 65_536).handle(
        [FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], NOW)
    yield engine, CommandHandler(xiaoshan, engine.begin, Topics()), result.routed[0].order_id
    engine.dispose()


def command(order_id: str, action: str, key: str, role: str = "town_operator", unit: str = XINTANG, **extra) -> bytes:
    return json.dumps({"idempotency_key": key, "order_id": order_id, "action": action,
                       "actor": {"user_id": "u-1", "role": role, "unit_code": unit}, **extra}).encode()


def handle(handler: CommandHandler, *values: bytes):
    """As the API hands commands in, its signed-in user as the actor (Kafka's senders: test_command_senders.py)."""
    return [handler.handle(WorkOrderCommandV1.model_validate_json(v), NOW) for v in values]


def consume(handler: CommandHandler, *values: bytes):
    return handler.handle_records([FeedRecord(v, None, "workorders.commands.v1", 0, i) for i, v in enumerate(values)],
                                  NOW, 65_536)


def events(engine) -> list:
    with engine.connect() as conn:
        return [json.loads(r.value) for r in conn.execute(select(outbox).where(outbox.c.topic == "workorders.events.v1")
                                                          .order_by(outbox.c.id))]


def test_an_accepted_command_changes_the_order_once_however_often_it_arrives(setup):
    engine, handler, order_id = setup
    ack = command(order_id, "acknowledge", "key-ack-0001")
    outcomes = handle(handler, ack, ack)
    assert [o.status for o in outcomes] == ["accepted", "duplicate"]
    with engine.connect() as conn:
        assert conn.execute(select(work_orders.c.state)).scalar_one() == "acknowledged"
        audit = list(conn.execute(select(order_events)))
    assert [(a.kind, a.accepted, a.actor_user, a.actor_unit) for a in audit] == [("acknowledge", True, "u-1", XINTANG)]
    assert events(engine)[-1]["event_type"] == "workorder.acknowledge"


@pytest.mark.parametrize(
    ("action", "role", "unit", "extra", "code", "says"),
    [
        pytest.param("report", "town_operator", XINTANG, {}, "illegal_transition", "dispatched", id="report-before-ack"),
        pytest.param("acknowledge", "town_operator", "330109002", {}, "other_town", "another town", id="other-town"),
        pytest.param("transfer", "town_operator", XINTANG, {"target_town": "330109002"}, "role_not_allowed",
                     "transfer", id="operator-cannot-transfer"),
        pytest.param("request_return", "town_operator", XINTANG, {"reason_code": "R99"}, "unknown_reason_code",
                     "R99", id="unknown-return-reason"),
        pytest.param("transfer", "district_dispatcher", "330109", {"target_town": "330109999"}, "unknown_target",
                     "330109999", id="unknown-town"),
        pytest.param("merge", "district_dispatcher", "330109", {"merge_into": "WO-NOPE"}, "unknown_target",
                     "WO-NOPE", id="unknown-merge-target"),
        # The role is checked before the target is looked up: a town role learns nothing of other orders.
        pytest.param("merge", "town_operator", XINTANG, {"merge_into": "WO-NOPE"}, "role_not_allowed", "merge",
                     id="operator-cannot-merge-whatever-the-target"),
        pytest.param("transfer", "town_operator", XINTANG, {"target_town": "330109999"}, "role_not_allowed",
                     "transfer", id="operator-cannot-transfer-whatever-the-town"),
    ],
)
def test_a_rejected_command_changes_nothing_and_says_why(setup, action, role, unit, extra, code, says):
    engine, handler, order_id = setup
    [outcome] = handle(handler, command(order_id, action, f"key-{action}-{code}", role, unit, **extra))
    assert (outcome.status, outcome.code) == ("rejected", code)
    assert says in outcome.reason
    with engine.connect() as conn:
        assert conn.execute(select(work_orders.c.state)).scalar_one() == "dispatched"
        [audit] = list(conn.execute(select(order_events)))
    assert (audit.accepted, audit.kind, audit.from_state) == (False, action, "dispatched")
    rejected = events(engine)[-1]
    assert rejected["event_type"] == "workorder.command_rejected" and says in rejected["reason"]


def test_a_command_for_no_such_order_is_answered_on_the_events_topic(setup):
    engine, handler, _ = setup
    [outcome] = handle(handler, command("WO0000000000NONE", "acknowledge", "key-unknown-1"))
    assert (outcome.status, outcome.code) == ("rejected", "unknown_order")
    answer = events(engine)[-1]
    assert (answer["order_id"], answer["accepted"], answer["town_code"]) == ("WO0000000000NONE", False, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"{not json", "not_json", id="not-json"),
        pytest.param(b'{"idempotency_key": "key-0000001", "order_id": "WO1", "action": "fly"}', "schema_violation",
                     id="unknown-action"),
        pytest.param("签收".encode("gbk"), "bad_encoding", id="gbk"),
        pytest.param(command("WO1", "acknowledge", "key-unix-time", at=1795957391), "schema_violation",
                     id="unix-time-claimed"),
    ],
)
def test_an_unreadable_command_is_dead_lettered_once(setup, raw: bytes, reason: str):
    engine, handler, _ = setup
    outcomes = consume(handler, raw, raw)
    assert [o.status for o in outcomes] == ["dead_letter", "dead_letter"]
    with engine.connect() as conn:
        [row] = list(conn.execute(select(dead_letters)))
        topics = [r.topic for r in conn.execute(select(outbox.c.topic).where(outbox.c.topic.like("%dlq%")))]
    assert row.reason == reason and row.payload == raw
    assert topics == ["workorders.commands.dlq.v1"]


def test_a_claimed_time_given_as_a_number_is_dead_lettered_saying_so(setup):
    _, handler, _ = setup
    [outcome] = consume(handler, command("WO1", "acknowledge", "key-unix-time", at=1795957391))
    assert (outcome.status, outcome.reason) == (
        "dead_letter", "at: Value error, a time must be an ISO 8601 string with an offset, not a number")


def test_a_key_reused_for_another_command_is_refused_not_taken_for_a_duplicate(setup):
    engine, handler, order_id = setup
    assert [o.status for o in handle(handler, command(order_id, "acknowledge", "key-shared-01"))] == ["accepted"]
    reused = [command(order_id, "report", "key-shared-01"),  # another action
              command(order_id, "acknowledge", "key-shared-01", unit="330109002"),  # another unit
              command("WO-ELSEWHERE", "acknowledge", "key-shared-01")]  # another order
    outcomes = handle(handler, *reused, *reused)
    assert {(o.status, o.code) for o in outcomes} == {("rejected", "idempotency_key_reused")}
    with engine.connect() as conn:
        assert conn.execute(select(work_orders.c.state)).scalar_one() == "acknowledged"
        assert [a.kind for a in conn.execute(select(order_events))] == ["acknowledge"]
    refusals = [e for e in events(engine) if e.get("details", {}).get("code") == "idempotency_key_reused"]
    assert len(refusals) == 3, "one answer per distinct reuse, however often it is repeated"
    assert handle(handler, command(order_id, "acknowledge", "key-shared-01"))[0].status == "duplicate"


def test_nothing_merges_into_a_finished_order(setup, router):
    engine, handler, order_id = setup
    incident = {"source_id": "C2", "received_at": NOW.isoformat(), "channel": "phone",
                "summary": "小区路灯不亮", "address": "萧山区新塘街道"}
    other = Intake(router, engine.begin, Topics(), 65_536).handle(
        [FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], NOW).routed[0].order_id
    dispatcher = {"role": "district_dispatcher", "unit": "330109"}
    assert handle(handler, command(other, "withdraw", "key-withdraw-1", **dispatcher))[0].status == "accepted"
    [outcome] = handle(handler, command(order_id, "merge", "key-merge-01", merge_into=other, **dispatcher))
    assert (outcome.status, outcome.code) == ("rejected", "invalid_merge_target") and "withdrawn" in outcome.reason
    with engine.connect() as conn:
        states = dict(conn.execute(select(work_orders.c.order_id, work_orders.c.state)).all())
    assert states == {order_id: "dispatched", other: "withdrawn"}


def test_deadlines_are_judged_by_when_fengqiao_received_a_command_not_by_the_senders_claim(setup):
    engine, handler, order_id = setup
    handle(handler, command(order_id, "acknowledge", "key-ack-late"))
    backdated = WorkOrderCommandV1.model_validate_json(command(
        order_id, "request_extension", "key-ext-late", extension_hours=24, at=NOW.isoformat()))
    outcome = handler.handle(backdated, NOW + timedelta(days=2))  # well past the 24 h report deadline
    assert (outcome.status, outcome.code) == ("rejected", "extension_after_deadline")
    with engine.connect() as conn:
        audit = conn.execute(select(order_events).where(order_events.c.kind == "request_extension")).one()
    assert audit.at == NOW + timedelta(days=2) and audit.details["claimed_at"] == NOW.isoformat()


def test_a_report_attaches_only_photos_of_its_own_order(setup):
    engine, handler, order_id = setup
    with engine.begin() as conn:
        for photo_id, order in (("PHOWN0000000000001", order_id), ("PHOTHER00000000001", "WO0000000000OTHER")):
            photos.add(conn, photo_id=photo_id, order_id=order, content_type="image/jpeg", size=1, width=1,
                       height=1, sha256="0" * 64, uploaded_by="u-1", uploaded_at=NOW)
    handle(handler, command(order_id, "acknowledge", "key-ack-0001"))
    refused = [handle(handler, command(order_id, "report", f"key-rep-000{i}", text="已处理", attachments=attached))[0]
               for i, attached in enumerate([["photo:PHOTHER00000000001"], ["photo:PHNOSUCH0000000001"],
                                             ["photo:PHOWN0000000000001", "photo:PHOTHER00000000001"]])]
    assert [(o.status, o.code) for o in refused] == [("rejected", "unknown_photo")] * 3
    accepted = handle(handler, command(order_id, "report", "key-rep-0009", text="已处理",
                                       attachments=["photo:PHOWN0000000000001", "oss://own/1.jpg"]))[0]
    assert accepted.status == "accepted"
    assert events(engine)[-1]["attachments"] == ["photo:PHOWN0000000000001", "oss://own/1.jpg"]
