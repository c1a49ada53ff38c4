"""The district centre's own work (区中心): who placed a review item (待定位) where, or marked it police,
or merged it into an order; which dead letters (死信) were re-driven after a fix, by whom; and which
orders it runs for towns not onboarded (区中心代管, work_orders.district_run), filled for existing
orders from their centre: one that is not the town's own (Xiaoshan's towns' centres carry their codes).

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
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("district_run", sa.Boolean(), nullable=False, server_default=sa.false(),
                                   comment="区中心代管: the town is not onboarded; the district centre works it, "
                                           "charged to it"))
    op.execute("UPDATE work_orders SET district_run = (centre_code <> town_code)")
    with op.batch_alter_table("review_items") as batch:
        batch.alter_column("state", existing_type=sa.String(length=16), existing_nullable=False,
                           comment="open | placed | merged | police (router.review_desk)")
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
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("district_run")
    with op.batch_alter_table("dead_letters") as batch:
        for name in ("redrives", "redriven_by", "redriven_at"):
            batch.drop_column(name)
    with op.batch_alter_table("review_items") as batch:
        batch.alter_column("state", existing_type=sa.String(length=16), existing_nullable=False,
                           comment="open until a dispatcher decides")
        for name in ("note", "order_id", "town_code", "decided_by", "decided_at"):
            batch.drop_column(name)
