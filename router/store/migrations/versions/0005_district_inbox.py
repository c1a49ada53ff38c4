"""The district's inbox decides (区中心处置): who placed a review item (待定位) where, or marked it police,
or merged it into an order; and which dead letters (死信) were re-driven after a fix, by whom.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True, comment="the dispatcher's login"))
        batch.add_column(sa.Column("town_code", sa.String(length=12), nullable=True,
                                   comment="the town it was placed in (placed, merged)"))
        batch.add_column(sa.Column("order_id", sa.String(length=32), nullable=True,
                                   comment="the order it opened or was merged into"))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True,
                                   comment="sent back to its topic; cleared if it is dead-lettered again"))
        batch.add_column(sa.Column("redriven_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("redrives", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        for name in ("redrives", "redriven_by", "redriven_at"):
            batch.drop_column(name)
    with op.batch_alter_table("review_items") as batch:
        for name in ("note", "order_id", "town_code", "decided_by", "decided_at"):
            batch.drop_column(name)
