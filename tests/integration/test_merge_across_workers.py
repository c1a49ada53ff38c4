"""并单 across workers: two intake transactions on PostgreSQL whose reports repeat each other.

Two workers consume different partitions, so a repeat report may be in another worker's batch
while the first report's order is not yet committed. The second batch must wait for the first
and merge into its order, not open a twin.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from router.bundle import load_bundle
from router.domain.routing import Router
from router.intake import FeedRecord, Intake
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import order_reports, work_orders
from tests.integration.support import wait_for
from workers.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _report(source_id: str) -> FeedRecord:
    body = {"source_id": source_id, "received_at": NOW.isoformat(), "channel": "phone",
            "summary": "楼上装修噪音太大，晚上还在施工", "address": "萧山区新塘街道傅楼村12号", "town_code": "330109004"}
    return FeedRecord(json.dumps(body, ensure_ascii=False).encode())


def test_a_repeat_in_another_workers_batch_waits_for_the_first_order_and_merges_into_it(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    settings = Settings()
    router = Router(load_bundle(settings.jurisdiction))
    staged, release = threading.Event(), threading.Event()

    @contextmanager
    def held_open():
        """The first worker's transaction: everything staged, the commit held back."""
        with engine.begin() as conn:
            yield conn
            staged.set()
            release.wait(60)

    first = Intake(router, held_open, settings.topics, 65_536)
    second = Intake(router, engine.begin, settings.topics, 65_536)
    results = {}
    threads = [threading.Thread(target=lambda: results.setdefault("first", first.handle([_report("MW1")], NOW))),
               threading.Thread(target=lambda: results.setdefault("second", second.handle([_report("MW2")], NOW)))]
    try:
        threads[0].start()
        assert staged.wait(60)
        threads[1].start()
        with engine.connect() as watcher:
            wait_for(lambda: watcher.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) == 1, 30,
                "the second batch waiting for the first batch's matter")
        release.set()
        for thread in threads:
            thread.join(60)
        with engine.connect() as conn:
            orders = conn.execute(select(work_orders.c.order_id, work_orders.c.reports)).all()
            reports = conn.scalar(select(func.count()).select_from(order_reports))
    finally:
        release.set()
        engine.dispose()
    assert [(r.outcome, r.merged) for r in results["first"].routed] == [("work_order", False)]
    assert [(r.outcome, r.merged) for r in results["second"].routed] == [("work_order", True)], results["second"]
    assert len(orders) == 1 and orders[0].reports == 2 and reports == 2
