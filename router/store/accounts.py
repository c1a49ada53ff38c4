"""Reads and writes of accounts: users, login sessions, bearer tokens and the access audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, and_, case, delete, insert, or_, select, update

from router.store import audit_log
from router.store.tables import access_log, api_tokens, login_sessions, users


def user(conn: Connection, user_id: str) -> RowMapping | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return row._mapping if row else None


def all_users(conn: Connection) -> list[RowMapping]:
    return [r._mapping for r in conn.execute(select(users).order_by(users.c.unit_code, users.c.user_id))]


def add_user(conn: Connection, user_id: str, display_name: str, role: str, unit_code: str,
             password_hash: str | None, at: datetime) -> None:
    conn.execute(insert(users).values(user_id=user_id, display_name=display_name, role=role, unit_code=unit_code,
                                      password_hash=password_hash, created_at=at))


def set_password(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id)
                 .values(password_hash=password_hash, failed_logins=0, locked_until=None))


def claim_login_attempt(conn: Connection, user_id: str, now: datetime) -> RowMapping | None:
    """Count one more login attempt, before the password is checked, in one statement.

    Counting first makes the lockout hold under parallel guesses: each guess takes a number, and
    those past the limit are refused unchecked. A lock that has run out starts the count again.
    None when there is no such enabled, unlocked account.
    """
    expired = and_(users.c.locked_until.is_not(None), users.c.locked_until <= now)
    row = conn.execute(
        update(users)
        .where(users.c.user_id == user_id, users.c.disabled.is_(False),
               or_(users.c.locked_until.is_(None), expired))
        .values(failed_logins=case((expired, 1), else_=users.c.failed_logins + 1), locked_until=None)
        .returning(users)
    ).first()
    return row._mapping if row else None


def lock(conn: Connection, user_id: str, until: datetime) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id).values(locked_until=until))


def record_login(conn: Connection, user_id: str) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id).values(failed_logins=0, locked_until=None))


def open_session(conn: Connection, session_hash: str, user_id: str, at: datetime, expires_at: datetime) -> None:
    """A new session for `user_id`; the user's expired ones go, so the table holds live sessions only."""
    conn.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id, login_sessions.c.expires_at <= at))
    conn.execute(insert(login_sessions).values(session_hash=session_hash, user_id=user_id, created_at=at,
                                               expires_at=expires_at))


def session_user(conn: Connection, session_hash: str, now: datetime) -> RowMapping | None:
    """The enabled user behind a live session, or None."""
    row = conn.execute(
        select(users).join(login_sessions, login_sessions.c.user_id == users.c.user_id)
        .where(login_sessions.c.session_hash == session_hash, login_sessions.c.expires_at > now,
               users.c.disabled.is_(False))
    ).first()
    return row._mapping if row else None


def close_session(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(login_sessions).where(login_sessions.c.session_hash == session_hash))


def add_token(conn: Connection, token_hash: str, user_id: str, name: str, at: datetime) -> None:
    conn.execute(insert(api_tokens).values(token_hash=token_hash, user_id=user_id, name=name, created_at=at))


def token_user(conn: Connection, token_hash: str) -> RowMapping | None:
    """The enabled user behind an unrevoked token, or None."""
    row = conn.execute(
        select(users).join(api_tokens, api_tokens.c.user_id == users.c.user_id)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None), users.c.disabled.is_(False))
    ).first()
    return row._mapping if row else None


def audit(conn: Connection, **entry: object) -> None:
    """Append one access-log entry (at, user_id, role, unit_code, action, order_id, outcome, status, detail,
    source_ip) to the hash chain."""
    audit_log.append(conn, entry)


def access_entries(conn: Connection, limit: int = 200, user_id: str | None = None) -> list[RowMapping]:
    query = select(access_log).order_by(access_log.c.id.desc()).limit(limit)
    if user_id:
        query = query.where(access_log.c.user_id == user_id)
    return [r._mapping for r in conn.execute(query)]


def set_disabled(conn: Connection, user_id: str, disabled: bool) -> None:
    conn.execute(update(users).where(users.c.user_id == user_id).values(disabled=disabled))


def close_user_sessions(conn: Connection, user_id: str) -> int:
    """Sign `user_id` out everywhere; the number of sessions closed."""
    return conn.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id)).rowcount


def revoke_tokens(conn: Connection, user_id: str, at: datetime) -> int:
    """Revoke every live token of `user_id` as of `at`; the number revoked."""
    return conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=at)).rowcount
