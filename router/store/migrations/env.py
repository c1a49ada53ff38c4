"""Alembic environment: runs migrations on the connection `router.store.migrate` hands over."""

from alembic import context

from router.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
