"""Accounts for the API and console: users, login sessions, bearer tokens, the access audit log;
audit tables made append-only on PostgreSQL; column comments 0001 declared but never wrote.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_AUDIT_TABLES = ("access_log", "order_events")
# (table, column, type, nullable, comment): declared in tables.py since 0001, missing on PostgreSQL.
_COMMENTS = (
    ("dead_letters", "fingerprint", sa.String(length=64), False, "SHA-256 of the original bytes"),
    ("incidents", "incident_id", sa.String(length=64), False, "The feed's source_id (警情编号)."),
    ("incidents", "outcome", sa.String(length=16), False, "police | work_order | review"),
    ("incidents", "record", sa.JSON(), False, "The incident as received; holds personal data."),
    ("outbox", "claimed_until", _TS, True, "Lease of the relay that is publishing it."),
    ("review_items", "state", sa.String(length=16), False, "open until a dispatcher decides"),
    ("work_orders", "order_id", sa.String(length=32), False, "工单编号"),
    ("work_orders", "state", sa.String(length=24), False, "lifecycle state; dispatched (待签收) on opening"),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(length=64), nullable=False, comment="login name"),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False, comment="a lifecycle Role"),
        sa.Column("unit_code", sa.String(length=32), nullable=False,
                  comment="its town code, or the district centre's code"),
        sa.Column("password_hash", sa.String(length=255), nullable=True,
                  comment="argon2id; none for integration accounts (tokens only)"),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _TS, nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
    )
    op.create_table(
        "login_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False,
                  comment="SHA-256 of the cookie: a leaked table opens nothing"),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="SHA-256 of the bearer token"),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "access_log",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True, comment="none when nobody was authenticated"),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False,
                  comment="login, orders.list, orders.acknowledge ..."),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False, comment="allowed | denied | rejected | failed"),
        sa.Column("status", sa.Integer(), nullable=False, comment="the HTTP status answered"),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        comment="Append-only audit of every API action and every denial (越权 attempts included).",
    )
    op.create_index("ix_access_log_at", "access_log", ["at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table, column, type_, nullable, comment in _COMMENTS:
            op.alter_column(table, column, existing_type=type_, existing_nullable=nullable, comment=comment)
        # Append-only in the database itself, not just by convention: a rogue UPDATE or DELETE
        # on an audit table fails, whoever sends it.
        op.execute("""
            CREATE FUNCTION fengqiao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only (审计日志只增不改)', TG_TABLE_NAME;
            END $$
        """)
        for table in _AUDIT_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION fengqiao_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _AUDIT_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION fengqiao_append_only()")
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_table("access_log")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_table("users")
