"""Indexes for the cockpit (驾驶舱): dispatches by when they began, incidents by when they were received
and by the order they opened, orders by village (村社).

Revision ID: 0012
Revises: 0010
"""

from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

_INDEXES = (("ix_holdings_from_at", "holdings", ["from_at", "unit_code"]),
            ("ix_incidents_received_at", "incidents", ["received_at", "town_code"]),
            ("ix_incidents_order_id", "incidents", ["order_id"]),
            ("ix_work_orders_village", "work_orders", ["town_code", "village_code"]))


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in _INDEXES:
        op.drop_index(name, table_name=table)
