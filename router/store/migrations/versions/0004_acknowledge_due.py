"""The 签收 deadline on the order (work_orders.acknowledge_due), so every list, filter, sort and
board figure reads the clock running now (router.domain.sla.RUNNING) from the order row; filled for
existing orders from their current generation's 签收 breach timer.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("acknowledge_due", sa.DateTime(timezone=True), nullable=True,
                                   comment="current 签收 deadline (the clock running while dispatched)"))
    op.execute(
        "UPDATE work_orders SET acknowledge_due = (SELECT max(t.due_at) FROM sla_timers t"
        " WHERE t.order_id = work_orders.order_id AND t.generation = work_orders.generation"
        " AND t.stage = 'acknowledge' AND t.kind = 'breach')"
    )


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("acknowledge_due")
