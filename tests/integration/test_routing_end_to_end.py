"""The running worker against Tansu and a real database: every record ends in exactly one place."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import dead_letters, incidents, outbox, review_items, work_orders
from tests.conftest import leaked_phone
from tests.integration.support import consume_all, incident_of, produce, wait_for
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration

BUNDLE = Settings().jurisdiction


def _samples(n: int, seed: int):
    generator = FeedGenerator(load_bundle(BUNDLE), seed=seed, invalid_share=0.04, id_prefix=f"IT{seed}")
    return generator.batch(n, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))


def _ledger(database_url: str) -> dict:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        ledger = {
            "incidents": {r.incident_id: r.outcome for r in conn.execute(select(incidents))},
            "orders": {r.incident_id: r for r in conn.execute(select(work_orders))},
            "reviews": {r.incident_id: r for r in conn.execute(select(review_items))},
            "dead": {r.fingerprint: r.reason for r in conn.execute(select(dead_letters))},
            "order_of": {r.incident_id: r.order_id for r in conn.execute(select(incidents))},
            "pending_events": conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))),
        }
    engine.dispose()
    return ledger


def _run_and_check(broker, worker, database_url: str, samples) -> None:
    topics = Settings(topic_prefix=worker.prefix).topics
    worker.start()
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
    distinct_invalid = {s.value for s in samples if s.expected.outcome == "dead_letter"}
    expected_rows = len({s.source_id for s in samples if s.expected.outcome != "dead_letter"})
    wait_for(lambda: len(_ledger(database_url)["incidents"]) == expected_rows
             and len(_ledger(database_url)["dead"]) == len(distinct_invalid), 180, "every record routed")
    wait_for(lambda: _ledger(database_url)["pending_events"] == 0, 60, "the outbox relayed")

    # Feed the whole batch again: every record is a duplicate and nothing new appears anywhere.
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
    wait_for(lambda: worker.metric("fengqiao_incidents_total", outcome="duplicate") == len(samples), 180,
             "the replayed batch seen as duplicates")
    ledger = _ledger(database_url)
    police = consume_all(broker.bootstrap, topics.police)
    events = consume_all(broker.bootstrap, topics.workorder_events)
    reviews = consume_all(broker.bootstrap, topics.review)
    dlq = consume_all(broker.bootstrap, topics.dead_letters)

    police_by_id = Counter(r.key.decode() for r in police)
    # An incident reaches an order by opening it (workorder.dispatched) or by repeating it (并单).
    events_by_incident = Counter(filter(None, (incident_of(json.loads(r.value)) for r in events)))
    reviews_by_id = Counter(json.loads(r.value)["incident"]["source_id"] for r in reviews)
    dlq_by_fp = Counter(json.loads(r.value)["fingerprint"] for r in dlq)
    police_bytes = {r.key.decode(): r.value for r in police}

    for sample in samples:
        e = sample.expected
        if e.outcome == "dead_letter":
            continue
        sid = sample.source_id
        places = (police_by_id[sid], events_by_incident[sid], reviews_by_id[sid])
        assert sum(places) == 1, f"{sid} expected {e} but is in (police, orders, review) {places} times"
        assert ledger["incidents"][sid] == e.outcome, sid
        if e.outcome == "police":
            assert police_bytes[sid] == sample.value, "police receives the feed's bytes unchanged"
        elif e.outcome == "work_order":
            order = ledger["orders"].get(sid) or next(o for o in ledger["orders"].values()
                                                      if o.order_id == ledger["order_of"][sid])
            assert (order.town_code, order.centre_code) == (e.town_code, e.centre_code), sid
        else:
            assert ledger["reviews"][sid].reason == e.reason, sid
    assert sum(o.reports for o in ledger["orders"].values()) == sum(events_by_incident.values())
    assert len(ledger["reviews"]) == sum(reviews_by_id.values())

    # Each centre's own topic carries exactly its orders' events.
    by_centre = Counter(json.loads(r.value)["centre_code"] for r in events)
    for centre, count in by_centre.items():
        on_topic = consume_all(broker.bootstrap, topics.centre_orders(centre), idle_s=0.5)
        assert len(on_topic) == count, centre
        assert all(json.loads(r.value)["centre_code"] == centre for r in on_topic)

    # Dead letters: once per distinct bad record, with the expected reason and the original bytes.
    assert len(dlq) == len(distinct_invalid) == sum(dlq_by_fp.values())
    reasons = {json.loads(r.value)["fingerprint"]: json.loads(r.value) for r in dlq}
    for sample in samples:
        if sample.expected.outcome == "dead_letter":
            envelope = next(v for v in reasons.values() if base64.b64decode(v["payload_base64"]) == sample.value)
            assert envelope["reason"] == sample.expected.reason
            assert ledger["dead"][envelope["fingerprint"]] == sample.expected.reason

    # Callers' phone numbers travel in the records but never into a log line.
    log = worker.log_path.read_text(errors="replace")
    assert '"event": "routed"' in log
    assert not leaked_phone(log), "a phone number reached the worker's log"


def test_a_thousand_incidents_each_end_in_one_place_on_postgresql(broker, make_worker, pg_url):
    samples = _samples(1200, seed=7)
    outcomes = Counter(s.expected.outcome for s in samples)
    assert min(outcomes.values()) >= 20, outcomes  # every kind of outcome is exercised
    _run_and_check(broker, make_worker(pg_url), pg_url, samples)


def test_the_embedded_default_routes_on_sqlite(broker, make_worker, tmp_path):
    url = f"sqlite:///{tmp_path / 'fengqiao.db'}"
    _run_and_check(broker, make_worker(url), url, _samples(300, seed=8))
