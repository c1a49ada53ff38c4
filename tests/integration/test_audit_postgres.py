"""The audit on PostgreSQL: a runtime role that cannot erase it, and a hash chain that shows what a superuser did."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from router.store import accounts
from router.store.database import make_engine
from router.store.migrate import upgrade
from tests.integration.support import PG_ADMIN_URL
from workers.cli import app

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 30, 1, tzinfo=UTC)
runner = CliRunner()


def _log(engine, n: int, who: str = "beigan-op") -> None:
    for i in range(n):
        with engine.begin() as conn:
            accounts.audit(conn, at=NOW, user_id=who, role="town_operator", unit_code="330109011",
                           action="orders.read", order_id=f"WO{i}", outcome="allowed", status=200, detail=None,
                           source_ip="10.0.0.7")


@pytest.fixture
def owner_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database; the CLI reaches it as the owner (the test superuser)."""
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", pg_url)
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    return pg_url


@pytest.fixture
def runtime_url(owner_url: str) -> Iterator[str]:
    """The same database reached as a fresh runtime role granted by `fengqiao db grant-runtime`."""
    role = f"fengqiao_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        result = runner.invoke(app, ["db", "grant-runtime", role])
        assert result.exit_code == 0, result.output
        yield owner_url.replace("postgres@", f"{role}@", 1)
    finally:
        with psycopg.connect(owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("statement", [
    "TRUNCATE access_log", "TRUNCATE order_events",
    "ALTER TABLE access_log DISABLE TRIGGER access_log_append_only",
    "ALTER TABLE order_events DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "DELETE FROM access_log", "UPDATE access_log SET outcome = 'denied'",
    "UPDATE audit_chain_heads SET chain = 'x'", "DELETE FROM audit_chain_heads",
    "DROP TABLE access_log",
])
def test_the_runtime_role_can_append_to_the_audit_but_not_erase_it(runtime_url: str, statement: str):
    engine = make_engine(runtime_url)
    try:
        upgrade(engine)  # the worker's start: a schema at head needs nothing but a look
        _log(engine, 2)
        with pytest.raises(DBAPIError, match="permission denied|must be owner"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM access_log")) == 2
    finally:
        engine.dispose()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_grant_runtime_refuses_a_role_that_could_undo_the_audit(owner_url: str):
    result = runner.invoke(app, ["db", "grant-runtime", "postgres"])
    assert result.exit_code == 1
    assert "superuser" in result.output


@pytest.mark.parametrize(("tamper", "found"), [
    ("DELETE FROM access_log WHERE id = 2", "broken at row 3 (gap)"),
    ("UPDATE access_log SET outcome = 'denied' WHERE id = 2", "broken at row 2 (edited)"),
    ("DELETE FROM access_log WHERE id = 3", "broken at row 2 (tail)"),
], ids=["deleted", "edited", "deleted-last"])
def test_verify_finds_what_a_superuser_did_behind_the_trigger(owner_url: str, tamper: str, found: str):
    engine = make_engine(owner_url)
    _log(engine, 3)
    engine.dispose()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    with psycopg.connect(owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off: what only a superuser can do
        conn.execute(tamper)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert found in result.output


def test_concurrent_appends_keep_one_chain(runtime_url: str):
    engine = make_engine(runtime_url)
    start = threading.Barrier(6)
    failures: list[Exception] = []

    def append(n: int) -> None:
        start.wait()
        try:
            _log(engine, 15, who=f"op-{n}")
        except Exception as error:  # every failure is the finding
            failures.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert failures == []
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact up to row 90" in result.output


def test_rows_written_before_the_chain_are_chained_by_its_migration(pg_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", pg_url)
    engine = make_engine(pg_url)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        for _ in range(3):
            conn.execute(text("INSERT INTO access_log (at, user_id, action, outcome, status) "
                              "VALUES (:at, 'beigan-op', 'orders.read', 'allowed', 200)"), {"at": NOW})
    upgrade(engine)
    _log(engine, 1)
    engine.dispose()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact up to row 4" in result.output
