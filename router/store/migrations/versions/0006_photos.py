"""Evidence photos (现场照片) of an order: their metadata; the files live in the photo store.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("photo_id", sa.String(length=32), nullable=False,
                  comment="PH + 16 random hex digits: not guessable"),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False,
                  comment="image/jpeg | image/png, from the content"),
        sa.Column("size", sa.Integer(), nullable=False, comment="bytes as stored, metadata stripped"),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="of the stored bytes"),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_photos")),
        comment="现场照片: evidence photos of an order; the files are in the photo store (files or S3).",
    )
    op.create_index(op.f("ix_photos_order_id"), "photos", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_photos_order_id"), table_name="photos")
    op.drop_table("photos")
