"""Closed loop: lifecycle columns, audit events, SLA timers, commands, holdings, reports, key disputes.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_commands")),
    )
    op.create_table(
        "holdings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("from_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings")),
        comment="Who held an order when: delays are charged segment by segment.",
    )
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holdings_order_id"), ["order_id"], unique=False)

    op.create_table(
        "key_disputes",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("town_code", sa.String(length=12), nullable=False),
        sa.Column("matter_type", sa.String(length=32), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responsible_leader", sa.String(length=64), nullable=True),
        sa.Column("responsible_unit", sa.String(length=64), nullable=True),
        sa.Column("responsible_person", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_key_disputes")),
        comment="重点矛盾纠纷: recurring disputes with a responsible leader, unit, person and deadline.",
    )
    with op.batch_alter_table("key_disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_disputes_town_code"), ["town_code"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False, comment="an action, rejected, or sla.<stage>.<kind>"),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("actor_user", sa.String(length=64), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("actor_unit", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_order_events_event_id")),
        comment="Append-only audit of every command, accepted or rejected, and every SLA effect.",
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_reports",
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.JSON(), nullable=True, comment="Personal data: for the callback (回访) only."),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_order_reports")),
        comment="Every incident behind an order (并单): each caller keeps the right to feedback.",
    )
    with op.batch_alter_table("order_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_reports_order_id"), ["order_id"], unique=False)

    op.create_table(
        "sla_timers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False, comment="the unit charged if it fires"),
        sa.Column("status", sa.String(length=12), nullable=False, comment="pending | fired | cancelled"),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_timers")),
        sa.UniqueConstraint("order_id", "generation", "stage", "kind", "due_at", name="uq_sla_timers_effect"),
    )
    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_timers_pending_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_sla_timers_order", ["order_id", "status"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "copy_topic",
                sa.String(length=255),
                nullable=True,
                comment="also published here: a command centre's own topic",
            )
        )

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "order_id",
                sa.String(length=32),
                nullable=True,
                comment="the work order it opened or was merged into (并单)",
            )
        )

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "generation", sa.Integer(), server_default="0", nullable=False, comment="bumped when it changes hands"
            )
        )
        batch_op.add_column(
            sa.Column("report_due", sa.DateTime(timezone=True), nullable=True, comment="current 反馈 deadline")
        )
        batch_op.add_column(
            sa.Column("returns", sa.Integer(), server_default="0", nullable=False, comment="退单 count")
        )
        batch_op.add_column(
            sa.Column(
                "previous_state",
                sa.String(length=24),
                nullable=True,
                comment="where reject_return / refuse_extension / unpark go back to",
            )
        )
        batch_op.add_column(
            sa.Column("pending_extension_s", sa.Integer(), nullable=True, comment="延期 requested, seconds")
        )
        batch_op.add_column(
            sa.Column(
                "village_code",
                sa.String(length=12),
                nullable=True,
                comment="the gazetteer entry that placed it, for 并单",
            )
        )
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "reports",
                sa.Integer(),
                server_default="1",
                nullable=False,
                comment="incidents merged into it, itself included",
            )
        )
        batch_op.add_column(
            sa.Column(
                "received_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="when its first report reached the 110 centre (并单 window)",
            )
        )
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_work_orders_matter", ["town_code", "matter_type", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("copy_topic")

    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("order_id")

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_work_orders_matter")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("received_at")
        batch_op.drop_column("reports")
        batch_op.drop_column("lat")
        batch_op.drop_column("lon")
        batch_op.drop_column("village_code")
        batch_op.drop_column("pending_extension_s")
        batch_op.drop_column("previous_state")
        batch_op.drop_column("returns")
        batch_op.drop_column("report_due")
        batch_op.drop_column("generation")

    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_timers_order")
        batch_op.drop_index("ix_sla_timers_pending_due")

    op.drop_table("sla_timers")
    with op.batch_alter_table("order_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_reports_order_id"))

    op.drop_table("order_reports")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))

    op.drop_table("order_events")
    with op.batch_alter_table("key_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_disputes_town_code"))

    op.drop_table("key_disputes")
    with op.batch_alter_table("holdings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holdings_order_id"))

    op.drop_table("holdings")
    op.drop_table("commands")
