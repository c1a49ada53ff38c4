"""High-incidence areas under targeted work (专项整治) and the monthly key-dispute lists (重点矛盾纠纷清单).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_campaigns",
        sa.Column("place", sa.String(length=200), nullable=False, comment="router.domain.hotspots.place_key"),
        sa.Column("matter_type", sa.String(length=32), nullable=False),
        sa.Column("town_code", sa.String(length=12), nullable=False),
        sa.Column("responsible_unit", sa.String(length=64), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("place", "matter_type", name=op.f("pk_hotspot_campaigns")),
        comment="专项整治: a high-incidence area the district put under targeted work, and who answers for it.",
    )
    op.create_table(
        "dispute_listings",
        sa.Column("month", sa.String(length=7), nullable=False, comment="YYYY-MM of the list"),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("town_code", sa.String(length=12), nullable=False),
        sa.Column("carried_over", sa.Boolean(), nullable=False, comment="on the previous month's list, unresolved"),
        sa.Column("responsible_leader", sa.String(length=64), nullable=True),
        sa.Column("responsible_unit", sa.String(length=64), nullable=True),
        sa.Column("responsible_person", sa.String(length=64), nullable=True),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("month", "order_id", name=op.f("pk_dispute_listings")),
        comment="重点矛盾纠纷清单: the disputes the district issued for a month, each with 包案 assignments.",
    )
    with op.batch_alter_table("dispute_listings") as batch:
        batch.create_index(batch.f("ix_dispute_listings_town_code"), ["town_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dispute_listings") as batch:
        batch.drop_index(batch.f("ix_dispute_listings_town_code"))
    op.drop_table("dispute_listings")
    op.drop_table("hotspot_campaigns")
