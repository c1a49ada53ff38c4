"""Webhook notifications (notify.csv): one row per fact and webhook, written in the fact's transaction
and delivered at least once by the workers' delivery loop.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False,
                  comment="The Idempotency-Key: one per fact and webhook, repeated on every retry."),
        sa.Column("webhook", sa.String(length=80), nullable=False, comment="unit_code/name of its notify.csv row"),
        sa.Column("event", sa.String(length=16), nullable=False, comment="new_order | warning | breach | escalation"),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False,
                  comment="notification.v1 JSON as signed and sent; callers masked"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False, comment="pending | delivered | given_up"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True,
                  comment="Lease of the worker delivering it."),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True,
                  comment="When it was delivered or given up."),
        sa.Column("last_error", sa.String(length=200), nullable=True,
                  comment="HTTP status or error class of the last failed attempt"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_notifications_notification_id")),
        comment="Webhook notifications, written with the fact they tell; delivered at least once.",
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_pending_due", ["next_attempt_at"], unique=False,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table("notifications")
