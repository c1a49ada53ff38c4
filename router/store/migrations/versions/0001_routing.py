"""Routing: incidents ledger, work orders, review queue, dead letters, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("source_system", sa.String(32), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("matter_type", sa.String(32)),
        sa.Column("town_code", sa.String(12)),
        sa.Column("centre_code", sa.String(32)),
        sa.Column("bundle_version", sa.String(64), nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("routed_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_incidents"),
    )
    op.create_table(
        "work_orders",
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("town_code", sa.String(12), nullable=False),
        sa.Column("centre_code", sa.String(32), nullable=False),
        sa.Column("matter_type", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("opened_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_work_orders"),
        sa.UniqueConstraint("incident_id", name="uq_work_orders_incident_id"),
    )
    op.create_index("ix_work_orders_town_code", "work_orders", ["town_code"])
    op.create_index("ix_work_orders_centre_code", "work_orders", ["centre_code"])
    op.create_table(
        "review_items",
        sa.Column("review_id", sa.String(32), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("centre_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queued_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("review_id", name="pk_review_items"),
        sa.UniqueConstraint("incident_id", name="uq_review_items_incident_id"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("source_topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer),
        sa.Column("offset", sa.BigInteger),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("dead_lettered_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_dead_letters"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.LargeBinary),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("claimed_until", _TS),
        sa.Column("published_at", _TS),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])


def downgrade() -> None:
    for table in ("outbox", "dead_letters", "review_items", "work_orders", "incidents"):
        op.drop_table(table)
