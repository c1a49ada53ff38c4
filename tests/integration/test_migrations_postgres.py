"""The migrations on PostgreSQL: exactly the declared schema, and audit tables that refuse to change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import DBAPIError

from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import access_log, metadata, order_events

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 30, 1, tzinfo=UTC)


def test_migrations_build_the_declared_schema_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_workers_started_together_on_an_empty_database_migrate_it_once(pg_url):
    """Two workers starting at once used to both create the schema; the second died on a unique index."""
    engines = [make_engine(pg_url) for _ in range(4)]
    start, failures = threading.Barrier(len(engines)), []

    def migrate(engine) -> None:
        start.wait()
        try:
            upgrade(engine)
        except Exception as error:  # every failure is the finding
            failures.append(error)

    threads = [threading.Thread(target=migrate, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failures == []
        with engines[0].connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize(("table", "row"), [
    (access_log, {"at": NOW, "action": "orders.read", "outcome": "denied", "status": 404, "user_id": "beigan-op",
                  "row_hash": "0" * 64}),  # the trigger, not the chain, is what this holds to
    (order_events, {"event_id": "e-1", "order_id": "WO1", "kind": "acknowledge", "accepted": True, "generation": 0,
                    "at": NOW, "details": {}}),
], ids=["access_log", "order_events"])
def test_audit_rows_can_be_added_but_never_changed_or_removed(pg_url, table, row):
    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(table).values(**row))
    for statement in (update(table).values(at=NOW.replace(year=2020)), delete(table)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        assert conn.execute(table.select()).one().at == NOW
    engine.dispose()
