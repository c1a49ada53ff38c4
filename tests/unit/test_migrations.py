"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import metadata


def test_migrations_match_the_declared_tables_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def _at_0007(tmp_path, users: list[str]):
    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    upgrade(engine, "0007")
    at = "2026-11-01 00:00:00.000000"
    with engine.begin() as conn:
        for user_id in users:
            conn.exec_driver_sql("insert into users (user_id, display_name, role, unit_code, created_at) "
                                 "values (?, 'x', 'admin', '330109', ?)", (user_id, at))
        conn.exec_driver_sql("insert into api_tokens (token_hash, user_id, name, created_at) values ('h', ?, 'n', ?)",
                             (users[0], at))
        conn.exec_driver_sql("insert into login_sessions values ('s', ?, ?, '2026-11-01 12:00:00.000000')",
                             (users[0], at))
    return engine


def test_0008_gives_each_account_its_normalised_name_and_old_tokens_an_expiry(tmp_path):
    engine = _at_0007(tmp_path, ["Admin", "xintang-op"])
    upgrade(engine)
    with engine.connect() as conn:
        names = dict(conn.exec_driver_sql("select user_id, login_name from users").all())
        expires = conn.exec_driver_sql("select expires_at from api_tokens").scalar_one()
        idle = conn.exec_driver_sql("select idle_until from login_sessions").scalar_one()
    assert names == {"Admin": "admin", "xintang-op": "xintang-op"}
    assert str(expires).startswith("2027-01-30") and idle is None  # 90 days on; idle clock set at next use
    engine.dispose()


def test_0008_stops_on_accounts_whose_names_normalise_alike(tmp_path):
    engine = _at_0007(tmp_path, ["admin", "Admin ", "ａｄｍｉｎ"])
    with pytest.raises(RuntimeError, match="normalise alike"):
        upgrade(engine)
    engine.dispose()
