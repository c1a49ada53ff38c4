"""Metrics: bounded labels, primed series, and the gauges and histograms read from the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.exc import OperationalError

from router.dead_letters import FeedRecord
from router.intake import BatchResult, Routed
from router.store.tables import dead_letters, metadata, order_events, outbox, review_items, work_orders
from workers.app import Backoff, _count_retry, _observe
from workers.metrics import DatabaseGauges, RouterMetrics, topic_kind

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
FORBIDDEN_LABELS = {"incident", "incident_id", "order", "order_id", "name", "phone", "caller", "address", "summary"}


def value(metrics: RouterMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


@pytest.fixture
def engine():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return engine


def order(order_id: str, town: str, state: str, opened_at: datetime = T0) -> dict:
    return {"order_id": order_id, "incident_id": f"i-{order_id}", "town_code": town, "centre_code": f"c{town}",
            "matter_type": "噪音扰民", "priority": "normal", "state": state, "summary": "", "address": "",
            "opened_at": opened_at}


def event(n: int, order_id: str, kind: str, at: datetime, accepted: bool = True, **details: str) -> dict:
    return {"event_id": f"e{n}", "order_id": order_id, "kind": kind, "accepted": accepted, "generation": 0, "at": at,
            "details": details}


def test_no_label_can_carry_personal_data_or_identifiers():
    for family in RouterMetrics.create().registry.collect():
        collector = RouterMetrics.create().registry._names_to_collectors.get(family.name)
        labels = set(getattr(collector, "_labelnames", ()))
        assert not labels & FORBIDDEN_LABELS, (family.name, labels)


def test_primed_series_exist_before_anything_happens():
    m = RouterMetrics.create().prime([("330109001", "城厢街道"), ("330109004", "新塘街道")])
    assert value(m, "fengqiao_dead_letters_total", reason="not_json") == 0
    assert value(m, "fengqiao_open_orders", town="330109004", state="dispatched") == 0
    assert value(m, "fengqiao_sla_events_total", town="330109001", stage="acknowledge", kind="breach") == 0
    assert value(m, "fengqiao_acknowledge_seconds_count", town="330109001") == 0
    assert value(m, "fengqiao_commands_total", status="rejected") == 0
    assert value(m, "fengqiao_town_info", town="330109004", town_name="新塘街道") == 1


@pytest.mark.parametrize(("topic", "kind"), [
    ("t1.incidents.v1", "incidents"), ("towns.330109004.orders.v1", "centre_orders"), ("police.v1", "police"),
])
def test_topic_kind_drops_prefix_version_and_centre(topic: str, kind: str):
    assert topic_kind(topic) == kind


def test_open_orders_and_outbox_come_from_the_database(engine):
    m = RouterMetrics.create()
    gauges = DatabaseGauges(m)
    with engine.begin() as conn:
        conn.execute(insert(work_orders), [order("A", "330109004", "dispatched"), order("B", "330109004", "dispatched"),
                                           order("C", "330109001", "acknowledged"), order("D", "330109001", "closed")])
        conn.execute(insert(outbox), [
            {"event_id": "x1", "topic": "t", "value": b"{}", "headers": {}, "created_at": T0, "published_at": None},
            {"event_id": "x2", "topic": "t", "value": b"{}", "headers": {}, "created_at": T0,
             "published_at": T0 + timedelta(seconds=1)},
        ])
        gauges.refresh(conn, T0 + timedelta(seconds=90))
    assert value(m, "fengqiao_open_orders", town="330109004", state="dispatched") == 2
    assert value(m, "fengqiao_open_orders", town="330109001", state="acknowledged") == 1
    assert value(m, "fengqiao_open_orders", town="330109001", state="closed") is None
    assert value(m, "fengqiao_outbox_backlog") == 1
    assert value(m, "fengqiao_outbox_oldest_seconds") == 90
    with engine.begin() as conn:
        conn.execute(work_orders.update().where(work_orders.c.order_id == "A").values(state="acknowledged"))
        conn.execute(outbox.update().values(published_at=T0))
        gauges.refresh(conn, T0 + timedelta(seconds=100))
    assert value(m, "fengqiao_open_orders", town="330109004", state="dispatched") == 1
    assert value(m, "fengqiao_outbox_oldest_seconds") == 0


def test_what_waits_for_the_district_comes_from_the_database(engine):
    m = RouterMetrics.create()
    gauges = DatabaseGauges(m)
    review = {"centre_code": "330109", "reason": "town_unresolved", "candidates": []}
    letter = {"reason": "not_json", "detail": "x", "source_topic": "incidents.v1", "size": 1, "payload": b"x"}
    with engine.begin() as conn:
        conn.execute(insert(review_items), [
            {**review, "review_id": "R1", "incident_id": "I1", "state": "open", "queued_at": T0},
            {**review, "review_id": "R2", "incident_id": "I2", "state": "open", "queued_at": T0 + timedelta(minutes=5)},
            {**review, "review_id": "R3", "incident_id": "I3", "state": "placed", "queued_at": T0 - timedelta(days=1)},
        ])
        conn.execute(insert(dead_letters), [
            {**letter, "fingerprint": "f1", "dead_lettered_at": T0 - timedelta(hours=1), "redriven_at": T0},
            {**letter, "fingerprint": "f2", "dead_lettered_at": T0, "redriven_at": None},
        ])
        gauges.refresh(conn, T0 + timedelta(minutes=40))
    assert value(m, "fengqiao_reviews_waiting") == 2
    assert value(m, "fengqiao_review_oldest_seconds") == 2400  # the decided one is not waiting
    assert value(m, "fengqiao_dead_letters_waiting") == 1
    assert value(m, "fengqiao_dead_letter_oldest_seconds") == 2400  # the re-driven one is not waiting
    with engine.begin() as conn:
        conn.execute(review_items.update().values(state="police"))
        gauges.refresh(conn, T0 + timedelta(minutes=41))
    assert (value(m, "fengqiao_reviews_waiting"), value(m, "fengqiao_review_oldest_seconds")) == (0, 0)


def test_audit_rows_become_durations_and_sla_counts_once(engine):
    m = RouterMetrics.create()
    gauges = DatabaseGauges(m)
    with engine.begin() as conn:
        conn.execute(insert(work_orders), [order("A", "330109004", "reported"), order("B", "330109001", "dispatched")])
        conn.execute(insert(order_events), [event(1, "A", "acknowledge", T0 + timedelta(minutes=1))])
        gauges.refresh(conn, T0)  # the first read starts after the newest audit row: history is not recounted
        conn.execute(insert(order_events), [
            event(2, "A", "report", T0 + timedelta(hours=3)),
            event(3, "B", "sla.acknowledge.breach", T0 + timedelta(minutes=30), unit_code="330109001"),
            event(4, "B", "sla.acknowledge.escalation.remind", T0 + timedelta(minutes=40), unit_code="330109001"),
            event(5, "B", "acknowledge", T0 + timedelta(minutes=41), accepted=False),
        ])
        gauges.refresh(conn, T0 + timedelta(hours=4))
        gauges.refresh(conn, T0 + timedelta(hours=4))
    assert value(m, "fengqiao_acknowledge_seconds_count", town="330109004") is None
    assert value(m, "fengqiao_acknowledge_seconds_count", town="330109001") is None  # the rejected one
    assert value(m, "fengqiao_report_seconds_sum", town="330109004") == 3 * 3600
    assert value(m, "fengqiao_sla_events_total", town="330109001", stage="acknowledge", kind="breach") == 1
    assert value(m, "fengqiao_sla_events_total", town="330109001", stage="acknowledge",
                 kind="escalation.remind") == 1


def test_a_batch_records_outcomes_rules_and_end_to_end_latency():
    m = RouterMetrics.create()
    record = FeedRecord(json.dumps({"received_at": "2026-11-28T09:00:00+08:00",
                                    "caller": {"phone": "13800000000"}}).encode(), b"k", "t.incidents.v1", 0, 7)
    received = datetime(2026, 11, 28, 9, tzinfo=timezone(timedelta(hours=8)))
    _observe(BatchResult([
        Routed("work_order", "I1", "WO1", "330109004", rule_ids=("kw.noise", "cat.06"), record=record,
               received_at=received),
        Routed("work_order", "I2", "WO1", "330109004", merged=True, rule_ids=("kw.noise",), record=record,
               received_at=received),
        Routed("dead_letter", reason="not_json", record=record),
        Routed("duplicate", "I1", record=record),
    ]), m, datetime(2026, 11, 28, 1, 0, 3, tzinfo=UTC))
    assert value(m, "fengqiao_incidents_total", source="feed", outcome="work_order") == 2
    assert value(m, "fengqiao_dead_letters_total", reason="not_json") == 1
    assert value(m, "fengqiao_routing_decisions_total", outcome="work_order", town="330109004") == 2
    assert value(m, "fengqiao_routing_rules_total", town="330109004", rule="kw.noise") == 2
    assert value(m, "fengqiao_incident_to_order_seconds_count") == 1  # the merged report opened no order
    assert value(m, "fengqiao_incident_to_order_seconds_sum") == 3


def test_a_database_error_counts_as_a_retry_and_a_database_error_a_broker_error_only_as_a_retry():
    m = RouterMetrics.create().prime([])
    _count_retry(m, "intake", OperationalError("select 1", {}, Exception("gone")))
    _count_retry(m, "relay", ConnectionError("broker"))
    assert value(m, "fengqiao_transient_retries_total", stage="intake") == 1
    assert value(m, "fengqiao_database_errors_total", stage="intake") == 1
    assert value(m, "fengqiao_transient_retries_total", stage="relay") == 1
    assert value(m, "fengqiao_database_errors_total", stage="relay") == 0


def test_backoff_doubles_up_to_its_maximum_and_starts_over_after_a_success():
    backoff = Backoff(max_s=0.5)
    assert [backoff.next() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.next() == 0.1


def test_an_acknowledgement_is_on_time_by_the_orders_acknowledge_deadline(engine):
    m = RouterMetrics.create()
    gauges = DatabaseGauges(m)
    due = T0 + timedelta(minutes=30)
    with engine.begin() as conn:
        conn.execute(insert(work_orders), [{**order("A", "330109004", "acknowledged"), "acknowledge_due": due},
                                           {**order("B", "330109004", "acknowledged"), "acknowledge_due": due}])
        gauges.refresh(conn, T0)
        conn.execute(insert(order_events), [event(1, "A", "acknowledge", due),  # at the deadline: on time
                                            event(2, "B", "acknowledge", due + timedelta(seconds=1))])
        gauges.refresh(conn, T0 + timedelta(hours=1))
    assert value(m, "fengqiao_acknowledgements_total", town="330109004", on_time="true") == 1
    assert value(m, "fengqiao_acknowledgements_total", town="330109004", on_time="false") == 1
