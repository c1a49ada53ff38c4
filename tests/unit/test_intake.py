"""Intake on SQLite: one outcome per record, its events in the same transaction, replays are no-ops."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from router.dispatch import order_id_for
from router.intake import DEAD_LETTER, DUPLICATE, FeedRecord, Intake
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import outbox, work_orders
from schemas.topics import Topics

NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
TOPICS = Topics("t.")


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def record(source_id: str, summary: str, address: str = "", **extra) -> FeedRecord:
    body = {"source_id": source_id, "received_at": "2026-11-28T21:00:00+08:00", "channel": "phone",
            "summary": summary, "address": address, **extra}
    return FeedRecord(json.dumps(body, ensure_ascii=False).encode(), source_id.encode(), "t.incidents.v1", 0, 1)


BATCH = [
    record("P1", "两人在店门口打架，一人头部流血", "新塘街道"),
    record("W1", "楼上邻居深夜装修，噪音太大", "浙江省杭州市萧山区新塘街道"),
    record("W2", "包工头拖欠工资", "城厢街道"),  # not onboarded: the district centre receives it
    record("R1", "路灯坏了一周", "紫霞村"),  # a village name held by two towns
    FeedRecord(b"\xff\xfe not utf-8", None, "t.incidents.v1", 2, 7),
]


def _outbox(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def test_every_record_has_exactly_one_outcome_and_its_events(router, engine):
    result = Intake(router, engine.begin, TOPICS, 65_536).handle(BATCH, NOW)

    assert [r.outcome for r in result.routed] == ["police", "work_order", "work_order", "review", DEAD_LETTER]
    topics = [topic for row in _outbox(engine) for topic in (row.topic, row.copy_topic) if topic]
    assert topics.count("t.police.v1") == 1
    assert topics.count("t.workorders.events.v1") == 2
    assert "t.towns.330109004.orders.v1" in topics  # 新塘街道, a pilot town, has its own centre
    assert "t.towns.330109.orders.v1" in topics  # 城厢街道 falls back to the district centre
    assert topics.count("t.incidents.review.v1") == 1
    assert topics.count("t.incidents.dlq.v1") == 1
    police = next(row for row in _outbox(engine) if row.topic == "t.police.v1")
    assert police.value == BATCH[0].value, "police receives the feed's bytes unchanged"
    assert json.loads(police.headers["fengqiao-decision"])["rule_ids"][0].startswith("police.")


def test_the_district_wide_events_topic_carries_no_caller_and_the_centres_copy_does(router, engine):
    caller = {"name": "王小明", "phone": "13912345678"}
    Intake(router, engine.begin, TOPICS, 65_536).handle(
        [record("C1", "楼上邻居深夜装修，噪音太大", "萧山区新塘街道", caller=caller)], NOW)
    [dispatched] = [row for row in _outbox(engine) if row.headers["fengqiao-event-type"] == "workorder.dispatched"]
    assert dispatched.topic == "t.workorders.events.v1" and dispatched.copy_topic == "t.towns.330109004.orders.v1"
    assert json.loads(dispatched.value)["incident"]["caller"] is None
    assert b"13912345678" not in dispatched.value and "王小明".encode() not in dispatched.value
    assert json.loads(dispatched.copy_value)["incident"]["caller"] == caller  # 新塘's system calls back
    district, centre = json.loads(dispatched.value), json.loads(dispatched.copy_value)
    assert district["event_id"] == centre["event_id"]  # one event, two renditions


def test_a_centre_the_bundle_does_not_name_gets_no_caller_on_its_topic(router, engine):
    caller = {"name": "王小明", "phone": "13912345678"}
    Intake(router, engine.begin, TOPICS, 65_536).handle(
        [record("C2", "包工头拖欠工资三个月", "萧山区城厢街道", caller=caller)], NOW)  # the district centre's
    [dispatched] = [row for row in _outbox(engine) if row.headers["fengqiao-event-type"] == "workorder.dispatched"]
    assert dispatched.copy_topic == "t.towns.330109.orders.v1"
    assert dispatched.copy_value is None  # the same record as the district-wide one: no caller
    assert json.loads(dispatched.value)["incident"]["caller"] is None


def test_a_replayed_batch_changes_nothing(router, engine):
    intake = Intake(router, engine.begin, TOPICS, 65_536)
    intake.handle(BATCH, NOW)
    before = _outbox(engine)

    again = intake.handle(BATCH, NOW)

    assert {r.outcome for r in again.routed} == {DUPLICATE}
    assert _outbox(engine) == before


def test_duplicates_inside_one_batch_open_one_order(router, engine):
    twice = [BATCH[1], BATCH[1], BATCH[4], BATCH[4]]
    result = Intake(router, engine.begin, TOPICS, 65_536).handle(twice, NOW)
    assert [r.outcome for r in result.routed] == ["work_order", DUPLICATE, DEAD_LETTER, DUPLICATE]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(work_orders)) == 1


def test_a_failed_transaction_leaves_nothing_and_a_retry_writes_the_same_events(router, engine, tmp_path):
    class Boom(Exception):
        pass

    @contextmanager
    def failing_transaction():
        """Like engine.begin(), but the commit fails (as when the database goes away)."""
        with engine.connect() as conn:
            transaction = conn.begin()
            yield conn
            transaction.rollback()
            raise Boom

    with pytest.raises(Boom):
        Intake(router, failing_transaction, TOPICS, 65_536).handle(BATCH, NOW)
    assert _outbox(engine) == []

    Intake(router, engine.begin, TOPICS, 65_536).handle(BATCH, NOW)
    first = {row.event_id for row in _outbox(engine)}
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    Intake(router, other.begin, TOPICS, 65_536).handle(BATCH, NOW)
    assert {row.event_id for row in _outbox(other)} == first, "event ids derive from the incident"
    for db in (engine, other):
        with db.connect() as conn:
            stored = dict(conn.execute(select(work_orders.c.incident_id, work_orders.c.order_id)).all())
        assert stored == {"W1": order_id_for("W1"), "W2": order_id_for("W2")}, "order ids derive from the incident"
    assert order_id_for("W1") != order_id_for("W2")


def test_a_town_code_outside_the_bundles_unit_code_pattern_is_dead_lettered_with_the_reason(router, engine):
    beat = record("B1", "楼上邻居深夜装修，噪音太大", "新塘街道", town_code="B12")  # a US beat under the NBS rule
    [routed] = Intake(router, engine.begin, TOPICS, 65_536).handle([beat], NOW).routed

    assert (routed.outcome, routed.reason) == (DEAD_LETTER, "schema_violation")
    [letter] = [row for row in _outbox(engine) if row.topic == "t.incidents.dlq.v1"]
    envelope = json.loads(letter.value)
    assert envelope["detail"].startswith("town_code: 'B12' is not a unit code of bundle")
    assert "[units] code_pattern '^[0-9]{9}([0-9]{3})?$'" in envelope["detail"]
    assert [e["field"] for e in envelope["errors"]] == ["town_code"]
    assert base64.b64decode(envelope["payload_base64"]) == beat.value  # nothing lost: re-driven after a fix
