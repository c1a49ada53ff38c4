"""The audit on PostgreSQL: a runtime role that cannot erase it, and a hash chain that shows what a superuser did."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from router.store.database import make_engine
from router.store.migrate import upgrade
from tests.audit_support import log, rows_before_the_chain_are_chained_by_its_migration, runner
from tests.integration.support import PG_ADMIN_URL, REPO
from workers.cli import app

pytestmark = pytest.mark.integration


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
        log(engine, 2)
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
    log(engine, 3)
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
            log(engine, 15, who=f"op-{n}")
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
    rows_before_the_chain_are_chained_by_its_migration(pg_url)


def test_the_deployments_roles_let_the_owner_migrate_and_grant_and_the_runtime_role_only_append(
        pg_url: str, monkeypatch: pytest.MonkeyPatch):
    """deploy/postgres/roles.sh (the compose file's init script), then the migration job's one command."""
    suffix = uuid.uuid4().hex[:8]
    owner, runtime = f"fq_owner_{suffix}", f"fq_app_{suffix}"
    base, _, database = pg_url.rpartition("/")
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "5432", "POSTGRES_USER": "postgres",
           "POSTGRES_DB": database, "FENGQIAO_DB_OWNER": owner, "FENGQIAO_DB_RUNTIME": runtime,
           "FENGQIAO_DB_OWNER_PASSWORD": "owner-secret", "FENGQIAO_DB_RUNTIME_PASSWORD": "runtime-secret"}
    try:
        script = subprocess.run(["sh", str(REPO / "deploy" / "postgres" / "roles.sh")], env=env,
                                capture_output=True, text=True, check=False)
        assert script.returncode == 0, script.stderr
        monkeypatch.setenv("FENGQIAO_DATABASE_URL", pg_url.replace("postgres@", f"{owner}@", 1))
        result = runner.invoke(app, ["db", "upgrade", "--grant-runtime", runtime])
        assert result.exit_code == 0, result.output
        assert f"granted {runtime}" in result.output
        engine = make_engine(pg_url.replace("postgres@", f"{runtime}@", 1))
        try:
            log(engine, 1)
            with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
                conn.execute(text("TRUNCATE access_log"))
            with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
                conn.execute(text("CREATE TABLE smuggled (id int)"))
        finally:
            engine.dispose()
        assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in (runtime, owner):
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')
