"""The access log as a hash chain (source IP, prev_hash, row_hash, and the chain head), the rows already
written chained in id order; on SQLite, audit tables append-only by trigger as on PostgreSQL.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from router.domain.audit_chain import chain_hash
from router.store.tables import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AUDIT_TABLES = ("access_log", "order_events")
# `at` read as the application writes it, so the backfilled hashes are the ones `audit verify` recomputes.
_ACCESS_LOG = sa.table("access_log", sa.column("at", UtcDateTime()), *(sa.column(c) for c in (
    "id", "user_id", "role", "unit_code", "action", "order_id", "outcome", "status", "detail", "source_ip",
    "prev_hash", "row_hash")))


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("source_ip", sa.String(length=45), nullable=True,
                                   comment="the client's address as the API saw it; none for the CLI"))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True,
                                   comment="row_hash of the row before; none for the first row"))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True,
                                   comment="SHA-256 of prev_hash and this row's content"))
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.String(length=32), nullable=False, comment="the chained table: access_log"),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True,
                  comment="id of the chain's last row; none while it is empty"),
        sa.Column("row_hash", sa.String(length=64), nullable=True, comment="row_hash of that row"),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
        comment="The head of each audit hash chain: locked by every append, so rows cut from the end show.",
    )
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:  # the owner lifts the append-only trigger for this one backfill, in this transaction
        op.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
    last_id, prev_hash = None, None
    for row in bind.execute(sa.select(_ACCESS_LOG).order_by(_ACCESS_LOG.c.id)).mappings().all():
        row_hash = chain_hash(prev_hash, row)
        bind.execute(_ACCESS_LOG.update().where(_ACCESS_LOG.c.id == row["id"])
                     .values(prev_hash=prev_hash, row_hash=row_hash))
        last_id, prev_hash = row["id"], row_hash
    if postgresql:
        op.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
    op.execute(sa.table("audit_chain_heads", sa.column("chain"), sa.column("last_id"), sa.column("row_hash"))
               .insert().values(chain="access_log", last_id=last_id, row_hash=prev_hash))
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
    if not postgresql:
        # Against mistakes and the application's own code only: whoever can write the file can drop these.
        for table in _AUDIT_TABLES:
            for change in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_append_only_{change.lower()} BEFORE {change} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only (审计日志只增不改)'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for table in _AUDIT_TABLES:
            for change in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_append_only_{change}")
    op.drop_table("audit_chain_heads")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("source_ip")
