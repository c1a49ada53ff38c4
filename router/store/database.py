"""Engine construction: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url


def create_private(path: Path) -> None:
    """Create `path` readable by its owner alone (0600), and its missing directories 0700, whatever the
    umask: the database and the run log hold callers and live tokens. An existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so the worker and the CLI can share it, and a
    file of its own user's (SQLite gives its -wal and -shm files the database file's mode)."""
    if url.startswith("sqlite"):
        path = make_url(url).database  # None or ":memory:" for an in-memory database ("sqlite://")
        if path and path != ":memory:":
            create_private(Path(path))
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - exercised in every SQLite test
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip per checkout, and a dead connection surfaces as an
    # OperationalError that every caller already retries.
    return create_engine(url, pool_size=5, max_overflow=5)
