"""Outages never skip a record: database refused, broker paused, worker killed mid-stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import dead_letters, incidents, outbox
from tests.integration.support import PG_ADMIN_URL, REPO, consume_all, incident_of, produce, wait_for
from workers.broker import EmbeddedBroker, free_port
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration


def _samples(n: int, seed: int):
    generator = FeedGenerator(load_bundle(Settings().jurisdiction), seed=seed, id_prefix=f"OUT{seed}")
    return generator.batch(n, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))


def _routed(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(incidents))
                    + conn.scalar(select(func.count()).select_from(dead_letters)))
    finally:
        engine.dispose()


def _pending(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
    finally:
        engine.dispose()


def _expected_total(samples) -> int:
    return len({s.source_id for s in samples if s.source_id and s.expected.outcome != "dead_letter"}) + len(
        {s.value for s in samples if s.expected.outcome == "dead_letter"})


def _check_each_incident_once(bootstrap: str, prefix: str, samples) -> None:
    """Every valid incident appears in exactly one output topic (after de-duplication by event id)."""
    topics = Settings(topic_prefix=prefix).topics
    seen: Counter[str] = Counter()
    for topic in (topics.police, topics.workorder_events, topics.review):
        unique_events = {}
        for record in consume_all(bootstrap, topic):
            headers = dict(record.headers)
            unique_events[headers["fengqiao-event-id"]] = record
        for record in unique_events.values():
            source_id = record.key.decode() if topic == topics.police else incident_of(json.loads(record.value))
            if source_id is not None:
                seen[source_id] += 1
    for sample in samples:
        if sample.expected.outcome != "dead_letter":
            assert seen[sample.source_id] == 1, (sample.source_id, sample.expected, seen[sample.source_id])


def test_a_database_outage_delays_routing_but_loses_nothing(broker, make_worker, pg_url):
    worker = make_worker(pg_url).start()
    name = pg_url.rsplit("/", 1)[1]
    samples = _samples(300, seed=21)
    topics = Settings(topic_prefix=worker.prefix).topics
    worker.wait_ready()

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
        wait_for(lambda: worker.metric("fengqiao_transient_retries_total", stage="intake") >= 3, 60,
                 "the worker retrying while the database refuses connections")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    wait_for(lambda: _routed(pg_url) == _expected_total(samples), 120, "every record routed after the outage")
    wait_for(lambda: _pending(pg_url) == 0, 60, "the outbox drained")
    _check_each_incident_once(broker.bootstrap, worker.prefix, samples)


def test_a_paused_broker_delays_routing_but_loses_nothing(make_worker, pg_url, tmp_path):
    # Tansu keeps nothing on disk, so a broker crash proves nothing here (KAFKA.md); a pause does.
    with EmbeddedBroker(log_path=tmp_path / "paused-tansu.log") as paused:
        worker = make_worker(pg_url, FENGQIAO_BOOTSTRAP_SERVERS=paused.bootstrap).start()
        topics = Settings(topic_prefix=worker.prefix).topics
        first, second = _samples(200, seed=31), _samples(200, seed=32)
        produce(paused.bootstrap, topics.incidents, [(s.key, s.value) for s in first])
        wait_for(lambda: _routed(pg_url) > 0, 90, "routing under way")

        os.kill(paused._process.pid, signal.SIGSTOP)
        time.sleep(8)  # longer than the session timeout: the group must recover, not skip
        os.kill(paused._process.pid, signal.SIGCONT)

        produce(paused.bootstrap, topics.incidents, [(s.key, s.value) for s in second])
        wait_for(lambda: _routed(pg_url) == _expected_total(first + second), 180, "every record routed")
        wait_for(lambda: _pending(pg_url) == 0, 60, "the outbox drained")
        _check_each_incident_once(paused.bootstrap, worker.prefix, first + second)
        worker.stop()


def test_a_worker_killed_mid_stream_is_replaced_without_loss_or_duplicates(broker, make_worker, pg_url):
    worker = make_worker(pg_url, FENGQIAO_BATCH_SIZE="50").start()
    topics = Settings(topic_prefix=worker.prefix).topics
    samples = _samples(1500, seed=41)
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
    wait_for(lambda: _routed(pg_url) >= 100, 90, "routing under way", interval_s=0.1)

    worker.kill()
    assert _routed(pg_url) < _expected_total(samples), "the kill must land mid-stream"
    make_worker(pg_url, prefix=worker.prefix).start()

    wait_for(lambda: _routed(pg_url) == _expected_total(samples), 180, "every record routed by the replacement")
    wait_for(lambda: _pending(pg_url) == 0, 60, "the outbox drained")
    _check_each_incident_once(broker.bootstrap, worker.prefix, samples)


@contextmanager
def _refusing(pg_url: str) -> Iterator[None]:
    """The test's own database refuses new connections and drops its open ones (the shared server runs on)."""
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        yield
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def _waiting(log_path: Path, event: str) -> bool:
    return log_path.read_text(errors="replace").count(event) >= 2


def test_a_worker_started_while_the_database_is_down_waits_and_comes_up_by_itself(broker, make_worker, pg_url):
    with _refusing(pg_url):
        worker = make_worker(pg_url).start()
        wait_for(lambda: _waiting(worker.log_path, "database_unreachable"), 60, "the worker waiting for its database")
        assert worker.process.poll() is None, worker.log_path.read_text(errors="replace")
        assert "Traceback" not in worker.log_path.read_text(errors="replace")
    samples = _samples(100, seed=51)
    produce(broker.bootstrap, Settings(topic_prefix=worker.prefix).topics.incidents,
            [(s.key, s.value) for s in samples])
    worker.wait_ready()
    wait_for(lambda: _routed(pg_url) == _expected_total(samples), 120, "every record routed once it came up")


def test_a_worker_started_before_its_broker_waits_and_comes_up_by_itself(make_worker, pg_url, tmp_path):
    later = EmbeddedBroker(port=free_port(), log_path=tmp_path / "later-tansu.log")
    worker = make_worker(pg_url, FENGQIAO_BOOTSTRAP_SERVERS=later.bootstrap).start()
    wait_for(lambda: _waiting(worker.log_path, "broker_unreachable"), 60, "the worker waiting for its broker")
    assert worker.process.poll() is None, worker.log_path.read_text(errors="replace")
    with later:
        worker.wait_ready(90)
        samples = _samples(50, seed=52)
        produce(later.bootstrap, Settings(topic_prefix=worker.prefix).topics.incidents,
                [(s.key, s.value) for s in samples])
        wait_for(lambda: _routed(pg_url) == _expected_total(samples), 120, "every record routed once it came up")
        worker.stop()
    assert "Traceback" not in worker.log_path.read_text(errors="replace")


def test_the_api_waits_for_its_database_and_says_not_ready_while_it_is_gone(pg_url, tmp_path):
    port, log_path = free_port(), tmp_path / "api.log"
    env = {**os.environ, "FENGQIAO_DATABASE_URL": pg_url, "FENGQIAO_API_PORT": str(port), "FENGQIAO_LOG_LEVEL": "INFO"}

    def ready() -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with log_path.open("ab") as log, _refusing(pg_url):
        api = subprocess.Popen([sys.executable, "-m", "workers", "api"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=REPO)
    try:
        with _refusing(pg_url):
            wait_for(lambda: _waiting(log_path, "database_unreachable"), 60, "the API waiting for its database")
            assert api.poll() is None, log_path.read_text(errors="replace")
        wait_for(lambda: ready() == 200, 60, "the API ready once its database answers")
        with _refusing(pg_url):
            wait_for(lambda: ready() == 503, 30, "the API not ready while its database is gone")
        wait_for(lambda: ready() == 200, 30, "the API ready again")
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=30)
    assert "Traceback" not in log_path.read_text(errors="replace")
