"""The database and the run log hold callers and live tokens: created for their owner alone, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest

from router.store.database import create_private, make_engine
from router.store.migrate import upgrade


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    before = os.umask(0)
    yield
    os.umask(before)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_and_its_wal_are_the_owners_alone(tmp_path, permissive_umask):
    data = tmp_path / "var"
    engine = make_engine(f"sqlite:///{data / 'fengqiao.db'}")
    upgrade(engine)  # writes through the WAL: SQLite gives -wal and -shm the database file's mode
    with engine.connect() as conn:
        assert {p.name for p in data.iterdir()} >= {"fengqiao.db", "fengqiao.db-wal"}
        assert {p.name: _mode(p) for p in data.iterdir()} == {p.name: 0o600 for p in data.iterdir()}
        conn.rollback()
    engine.dispose()
    assert _mode(data) == 0o700


def test_the_run_log_is_created_for_its_owner_alone_and_an_existing_one_is_kept(tmp_path, permissive_umask):
    log = tmp_path / "var" / "fengqiao.log"
    create_private(log)
    log.write_text("kept\n")
    create_private(log)
    assert (_mode(log), _mode(log.parent), log.read_text()) == (0o600, 0o700, "kept\n")


def test_an_in_memory_database_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        make_engine(url).dispose()
    assert list(tmp_path.iterdir()) == []
