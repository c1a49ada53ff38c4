"""The audit chain's checks that hold on SQLite (tests/unit) and PostgreSQL (tests/integration) alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from router.store import accounts
from router.store.database import make_engine
from router.store.migrate import upgrade
from workers.cli import app

NOW = datetime(2026, 11, 30, 1, tzinfo=UTC)
runner = CliRunner()


def log(engine: Engine, n: int, who: str = "beigan-op") -> None:
    """`n` access-log rows, each in its own transaction, as the API writes them."""
    for i in range(n):
        with engine.begin() as conn:
            accounts.audit(conn, at=NOW, user_id=who, role="town_operator", unit_code="330109011",
                           action="orders.read", order_id=f"WO{i}", outcome="allowed", status=200, detail=None,
                           source_ip="10.0.0.7")


def rows_before_the_chain_are_chained_by_its_migration(url: str) -> None:
    """Three rows written at 0007, before the chain, are chained by 0009 and the next row follows them.
    FENGQIAO_DATABASE_URL must name `url` (`audit verify` reads it)."""
    engine = make_engine(url)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(text("INSERT INTO access_log (at, user_id, action, outcome, status) "
                              "VALUES (:at, 'beigan-op', 'orders.read', 'allowed', 200)"),
                         {"at": NOW.replace(second=i)})
    upgrade(engine)
    log(engine, 1)
    engine.dispose()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact up to row 4" in result.output
