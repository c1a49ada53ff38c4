"""The district-wide events topic carries no caller: an outbox row may hold a second rendition of its
event for its copy topic (outbox.copy_value), so a town centre's own topic keeps the caller its
operators call back while workorders.events.v1, read district-wide, has none.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("copy_value", sa.LargeBinary(), nullable=True,
                                   comment="the record for copy_topic when it differs from value"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("copy_value")
