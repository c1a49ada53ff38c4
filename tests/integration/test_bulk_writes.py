"""PostgreSQL takes the intake's rows by COPY: what it stores must be what row-by-row INSERTs store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import JSON, Text, cast, insert, select

from router.bundle import load_bundle
from router.dead_letters import FeedRecord
from router.domain.routing import Router
from router.intake import Intake
from router.store import ledger
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import metadata
from tests.integration.conftest import PG_URL
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    names = [f"fengqiao_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
