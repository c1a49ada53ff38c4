"""`fengqiao audit verify` and the audit of `fengqiao users ...` on SQLite."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import access_log, order_events
from tests.audit_support import NOW, log, rows_before_the_chain_are_chained_by_its_migration, runner
from workers.cli import app


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'fengqiao.db'}"
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", url)
    monkeypatch.setenv("FENGQIAO_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_verify_passes_an_intact_log_and_names_its_head(engine):
    log(engine, 3)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "chain intact up to row 3" in result.output


def test_verify_finds_a_row_deleted_behind_the_triggers_back(engine):
    log(engine, 3)
    with engine.begin() as conn:  # what only someone holding the file can do
        conn.execute(text("DROP TRIGGER access_log_append_only_delete"))
        conn.execute(text("DELETE FROM access_log WHERE id = 2"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "broken at row 3 (gap)" in result.output


@pytest.mark.parametrize("statement", ["UPDATE access_log SET outcome = 'denied'", "DELETE FROM access_log",
                                       "DELETE FROM order_events", "UPDATE order_events SET kind = 'x'"])
def test_sqlite_audit_tables_refuse_changes_from_the_application(engine, statement: str):
    log(engine, 1)
    with engine.begin() as conn:
        conn.execute(insert(order_events).values(event_id="e-1", order_id="WO1", kind="acknowledge", accepted=True,
                                                 generation=0, at=NOW, details={}))
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))


def test_users_commands_are_in_the_access_log_as_the_os_user(engine):
    assert runner.invoke(app, ["users", "add", "xintang-system", "--role", "integration", "--unit", "330109004",
                               "--name", "新塘对接"]).exit_code == 0
    for command in (["issue-token", "xintang-system"], ["rotate-token", "xintang-system"],
                    ["disable", "xintang-system"], ["enable", "xintang-system"], ["revoke-tokens", "xintang-system"]):
        result = runner.invoke(app, ["users", *command])
        assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        rows = conn.execute(select(access_log.c.user_id, access_log.c.action, access_log.c.detail)
                            .order_by(access_log.c.id)).all()
    actor = f"cli:{getpass.getuser()}"
    assert rows == [(actor, f"users.{a}", "user=xintang-system")
                    for a in ("add", "issue_token", "rotate_token", "disable", "enable", "revoke_tokens")]
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_rows_written_before_the_chain_are_chained_by_its_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", url)
    rows_before_the_chain_are_chained_by_its_migration(url)
