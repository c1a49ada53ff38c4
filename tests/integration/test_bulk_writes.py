"""PostgreSQL-only paths of the intake against their portable twins: rows go in by COPY, and the
open orders a batch could repeat are found by one query over arrays of places."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, Text, cast, func, insert, select
from sqlalchemy.exc import IntegrityError

from router.bundle import load_bundle
from router.dead_letters import FeedRecord
from router.domain.routing import Router
from router.intake import Intake
from router.store import ledger
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import metadata, order_reports, outbox, work_orders
from tests.integration.support import fresh_database
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    """Two new empty databases; the first is dropped even when creating the second fails."""
    with fresh_database() as first, fresh_database() as second:
        yield first, second


def _everything(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # JSON as stored text: a JSON null and an SQL NULL, or two spellings, must not read back alike.
            return {t.name: sorted(map(tuple, conn.execute(select(*(cast(c, Text) if isinstance(c.type, JSON) else c
                                                                    for c in t.c)))), key=repr)
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def test_copy_stores_what_inserts_store(two_databases, monkeypatch):
    jurisdiction = load_bundle(Settings().jurisdiction)
    samples = FeedGenerator(jurisdiction, seed=3, invalid_share=0.05, id_prefix="BW").batch(400, NOW)
    records = [FeedRecord(s.value, s.key, "incidents.v1", 0, i) for i, s in enumerate(samples)]
    # Twice the same records: the second half of the run is all duplicates and merges.
    batches = [records[:200], records[200:], records[100:300]]

    def run(url: str) -> None:
        engine = make_engine(url)
        try:
            upgrade(engine)
            intake = Intake(Router(jurisdiction), engine.begin, Settings().topics, 65_536)
            for batch in batches:
                intake.handle(batch, NOW)
        finally:
            engine.dispose()

    copied, inserted = two_databases
    run(copied)
    with monkeypatch.context() as patched:
        patched.setattr(ledger, "_copy_rows", lambda conn, table, rows: conn.execute(insert(table), rows))
        run(inserted)

    by_copy, by_insert = _everything(copied), _everything(inserted)
    assert by_copy["sla_timers"] and by_copy["outbox"] and by_copy["dead_letters"] and by_copy["order_reports"]
    assert any("null" in r for r in by_copy["order_reports"]), "a report without a caller is covered"
    assert by_copy == by_insert


def test_the_postgresql_candidate_query_merges_as_the_portable_one_does(pg_url, tmp_path):
    jurisdiction = load_bundle(Settings().jurisdiction)
    samples = FeedGenerator(jurisdiction, seed=11, invalid_share=0, id_prefix="MQ").batch(3000, NOW)
    records = [FeedRecord(s.value, s.key, "incidents.v1", 0, i) for i, s in enumerate(samples)]
    # The generator's repeats share a village; these share only an address, or only a neighbourhood
    # (coordinates within the radius or just beyond it), across batches and across the window's edge.
    rng = random.Random(5)
    for i in range(1500):
        body = {"source_id": f"MQX{i}", "received_at": (NOW + timedelta(minutes=7 * i + rng.randrange(-3000, 3000)))
                .isoformat(), "channel": "app", "summary": rng.choice(("路边井盖丢失，很危险", "楼上邻居深夜装修，噪音扰民")),
                "address": rng.choice((f"萧山区北干街道金城路{rng.randrange(6)}号", f"萧山区北干街道{i}附近", "")),
                "town_code": rng.choice(("330109002", "330109004"))}
        if rng.random() < 0.7:
            body["location"] = {"lon": 120.27 + rng.randrange(40) * 0.0009, "lat": 30.18 + rng.randrange(3) * 0.0009,
                                "datum": "WGS-84"}
        records.append(FeedRecord(json.dumps(body, ensure_ascii=False).encode(), None, "incidents.v1", 1, i))
    random.Random(6).shuffle(records)

    def merged(url: str) -> dict[str, tuple]:
        engine = make_engine(url)
        try:
            upgrade(engine)
            intake = Intake(Router(jurisdiction), engine.begin, Settings().topics, 65_536)
            for start in range(0, len(records), 250):
                intake.handle(records[start:start + 250], NOW)
            with engine.connect() as conn:
                reports = dict(conn.execute(select(order_reports.c.incident_id, order_reports.c.order_id)).all())
                counts = dict(conn.execute(select(work_orders.c.order_id, work_orders.c.reports)).all())
            return {incident: (order, counts[order]) for incident, order in reports.items()}
        finally:
            engine.dispose()

    on_postgres, on_sqlite = merged(pg_url), merged(f"sqlite:///{tmp_path / 'portable.db'}")
    repeats = sum(1 for incident, (order, count) in on_postgres.items() if count > 1 and incident.startswith("MQX"))
    assert repeats > 300, "the feed must repeat open orders often enough to compare"
    assert on_postgres == on_sqlite


def test_a_conflict_on_the_copy_path_is_the_integrity_error_the_worker_retries(pg_url):
    """Two workers can stage the same fact (a key dispute both flag, its event): the second COPY must
    fail as SQLAlchemy's IntegrityError, which the worker retries after re-reading, never as the
    driver's own UniqueViolation, which it does not know and exits on (issue 14)."""
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        event = ledger.outbox_row("00000000-0000-5000-8000-000000000001", "t", b"k", b"{}", {}, NOW)
        with engine.begin() as conn:
            ledger.add_rows(conn, {"outbox": [event]})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            ledger.add_rows(conn, {"outbox": [event]})
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(outbox)) == 1
    finally:
        engine.dispose()
