"""Accounts policy (issue 11): user names unique in their normalised form, a forced password change after
a reset, an idle clock on sessions, an expiry on tokens.

Sessions opened before this revision get their idle clock at their next use; tokens issued before it
expire 90 days after they were issued. The upgrade stops if two accounts' names normalise alike, naming
them. The lockout's columns (users.failed_logins, locked_until) are no longer used but stay, so that the
previous release's replicas keep running during a rolling upgrade; the next release drops them.

Revision ID: 0008
Revises: 0007
"""

import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_TOKEN_DAYS = 90


def _normalised(name: str) -> str:
    # As router.domain.credentials.normalise_user_name did at this revision; a migration keeps its own copy,
    # so that a later change of the rule cannot rewrite what this revision did.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("login_name", sa.String(length=64), nullable=True,
                                   comment="user_id normalised (NFKC, case-folded, trimmed): one account per form"))
        batch.add_column(sa.Column("password_change_required", sa.Boolean(), server_default=sa.text("false"),
                                   nullable=False, comment="set by a reset: the account may only change its password"))
    users = sa.table("users", sa.column("user_id", sa.String), sa.column("login_name", sa.String))
    forms: dict[str, list[str]] = {}
    for (user_id,) in conn.execute(sa.select(users.c.user_id)):
        forms.setdefault(_normalised(user_id), []).append(user_id)
    clashes = [ids for ids in forms.values() if len(ids) > 1]
    if clashes:
        raise RuntimeError("accounts whose names normalise alike (keep one of each, disable and rename the others "
                           f"by hand, then upgrade again): {clashes}")
    for login_name, (user_id,) in forms.items():
        conn.execute(users.update().where(users.c.user_id == user_id).values(login_name=login_name))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("login_name", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_login_name"), ["login_name"])

    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("idle_until", _TS, nullable=True,
                                   comment="ends unless used by then; each use moves it on (none: set at next use)"))

    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", _TS, nullable=True))
    tokens = sa.table("api_tokens", sa.column("token_hash", sa.String), sa.column("created_at", _TS),
                      sa.column("expires_at", _TS))
    for token_hash, created_at in conn.execute(sa.select(tokens.c.token_hash, tokens.c.created_at)).all():
        conn.execute(tokens.update().where(tokens.c.token_hash == token_hash)
                     .values(expires_at=created_at + timedelta(days=_TOKEN_DAYS)))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=_TS, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("idle_until")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_login_name"), type_="unique")
        batch.drop_column("password_change_required")
        batch.drop_column("login_name")
