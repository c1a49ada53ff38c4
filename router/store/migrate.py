"""Bring a database to the latest schema with Alembic (`fengqiao db upgrade`, and at worker start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

_SCRIPTS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock(classid, objid) of Fengqiao's migrations ("FQ" + 2; 并单 locks are "FQ" + 1).
_MIGRATION_LOCK = text("SELECT pg_advisory_xact_lock(1179713538, 0)")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration; safe to run on every start, by several processes at once.

    On PostgreSQL the migration holds a lock until it commits, so two workers started together on
    an empty database do not both create the schema: the second waits, then finds it up to date.
    """
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(_MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
