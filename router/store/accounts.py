"""Reads and writes of accounts: users, login sessions, bearer tokens and the access audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, insert, or_, select, update

from router.domain.credentials import normalise_user_name
from router.store import audit_log
from router.store.tables import access_log, api_tokens, login_sessions, users


def user(conn: Connection, name: str) -> RowMapping | None:
    """The account `name` names in any form that normalises to its login name (`Admin`, `ａｄｍｉｎ `), or None."""
    row = conn.execute(select(users).where(users.c.login_name == normalise_user_name(name))).first()
    return row._mapping if row else None


def all_users(conn: Connection) -> list[RowMapping]:
    return [r._mapping for r in conn.execute(select(users).order_by(users.c.unit_code, users.c.user_id))]


def add_user(conn: Connection, user_id: str, display_name: str, role: str, unit_code: str,
             password_hash: str | None, at: datetime) -> None:
    """A new account; IntegrityError when its name, in normalised form, is taken."""
    conn.execute(insert(users).values(user_id=user_id, login_name=normalise_user_name(user_id),
                                      display_name=display_name, role=role, unit_code=unit_code,
                                      password_hash=password_hash, created_at=at))


def set_password(conn: Connection, user_id: str, password_hash: str, change_required: bool) -> None:
    """A new password; `change_required` (after a reset) confines the account to changing it."""
    conn.execute(update(users).where(users.c.user_id == user_id)
                 .values(password_hash=password_hash, password_change_required=change_required))


def open_session(conn: Connection, session_hash: str, user_id: str, at: datetime, expires_at: datetime,
                 idle_until: datetime) -> None:
    """A new session for `user_id`; the user's ended ones go, so the table holds live sessions only."""
    ended = or_(login_sessions.c.expires_at <= at, login_sessions.c.idle_until <= at)
    conn.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id, ended))
    conn.execute(insert(login_sessions).values(session_hash=session_hash, user_id=user_id, created_at=at,
                                               expires_at=expires_at, idle_until=idle_until))


def session_user(conn: Connection, session_hash: str, now: datetime, idle: timedelta) -> RowMapping | None:
    """The enabled user behind a live session, or None; using a session keeps it alive for `idle` more."""
    live = conn.execute(
        update(login_sessions)
        .where(login_sessions.c.session_hash == session_hash, login_sessions.c.expires_at > now,
               or_(login_sessions.c.idle_until.is_(None), login_sessions.c.idle_until > now))
        .values(idle_until=now + idle)
        .returning(login_sessions.c.user_id)
    ).first()
    if live is None:
        return None
    row = conn.execute(select(users).where(users.c.user_id == live.user_id, users.c.disabled.is_(False))).first()
    return row._mapping if row else None


def close_session(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(login_sessions).where(login_sessions.c.session_hash == session_hash))


def add_token(conn: Connection, token_hash: str, user_id: str, name: str, at: datetime, expires_at: datetime) -> None:
    conn.execute(insert(api_tokens).values(token_hash=token_hash, user_id=user_id, name=name, created_at=at,
                                           expires_at=expires_at))


def token_user(conn: Connection, token_hash: str, now: datetime) -> RowMapping | None:
    """The enabled user behind an unrevoked, unexpired token, or None."""
    row = conn.execute(
        select(users).join(api_tokens, api_tokens.c.user_id == users.c.user_id)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None),
               api_tokens.c.expires_at > now, users.c.disabled.is_(False))
    ).first()
    return row._mapping if row else None


def revoke_named_tokens(conn: Connection, user_id: str, name: str, at: datetime, keep: str) -> int:
    """Revoke `user_id`'s live tokens called `name` except the one hashed `keep` (rotation); the number revoked."""
    return conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.name == name,
                                                 api_tokens.c.token_hash != keep, api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=at)).rowcount


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
