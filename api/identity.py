"""Who is calling: password login with sessions (console), bearer tokens (integrations), lockout.

Secrets are stored only as hashes: argon2id for passwords, SHA-256 for session cookies and
tokens (random 256-bit values need no slow hash). A locked or unknown account fails exactly
like a wrong password, so a login form does not tell which user names exist.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping

from router.domain.lifecycle import TOWN_ROLES, Role
from router.domain.privacy import sees_callers
from router.store import accounts

SESSION_COOKIE = "fengqiao_session"
TOKEN_PREFIX = "fq_"
_HASHER = PasswordHasher()
# Verifying against this keeps unknown-user logins as slow as real ones.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user, as every handler sees it."""

    user_id: str
    display_name: str
    role: Role
    unit_code: str

    @property
    def town(self) -> str | None:
        """The one town this user is confined to; None for district roles, who see every town."""
        return self.unit_code if self.role in TOWN_ROLES else None

    @property
    def sees_callers(self) -> bool:
        return sees_callers(self.role)


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How long sessions live and how many failures lock an account, for how long."""

    session_ttl: timedelta = timedelta(hours=12)
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


class LoginFailed(Exception):
    """Wrong user name or password, or a locked or disabled account; `why` says which, for the audit only.

    `known` is False for a user name that names no account: often a password typed in the wrong
    box, so it is not written to the access log.
    """

    def __init__(self, user_id: str, why: str, known: bool = True) -> None:
        super().__init__(why)
        self.user_id = user_id
        self.why = why
        self.known = known


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _refused(claimed: RowMapping | None, current: RowMapping | None) -> tuple[str, bool]:
    """Why an account that could not even try a password was refused, and whether it exists (audit only)."""
    if claimed is not None:
        return "token-only account", True
    if current is None:
        return "unknown user", False
    if current["disabled"]:
        return "disabled account", True
    return f"locked until {current['locked_until'].isoformat()}", True


def _principal(row: RowMapping) -> Principal:
    return Principal(row["user_id"], row["display_name"], Role(row["role"]), row["unit_code"])


class Identity:
    """Logins, sessions and tokens over the accounts tables."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]], policy: LoginPolicy) -> None:
        self._transaction = transaction
        self._policy = policy

    @property
    def session_ttl(self) -> timedelta:
        return self._policy.session_ttl

    def login(self, user_id: str, password: str, now: datetime) -> tuple[Principal, str]:
        """A new session cookie value for a correct password; raises LoginFailed otherwise.

        The attempt is counted and committed before the password is checked, and every refusal
        costs one argon2 verification, so neither the answer nor its timing tells a locked or
        unknown account from a wrong password.
        """
        with self._transaction() as conn:
            row = accounts.claim_login_attempt(conn, user_id, now)
            current = None if row else accounts.user(conn, user_id)
        if row is None or row["password_hash"] is None:
            self._verify(_DUMMY_HASH, password)
            raise LoginFailed(user_id, *_refused(row, current))
        if row["failed_logins"] > self._policy.max_failures:
            self._verify(_DUMMY_HASH, password)
            with self._transaction() as conn:
                accounts.lock(conn, user_id, now + self._policy.lockout)
            raise LoginFailed(user_id, f"attempt {row['failed_logins']} beyond the limit, locked")
        if not self._verify(row["password_hash"], password):
            locked = row["failed_logins"] >= self._policy.max_failures
            if locked:
                with self._transaction() as conn:
                    accounts.lock(conn, user_id, now + self._policy.lockout)
            suffix = ", locked" if locked else ""
            raise LoginFailed(user_id, f"wrong password ({row['failed_logins']} in a row{suffix})")
        session = secrets.token_urlsafe(32)
        with self._transaction() as conn:
            accounts.record_login(conn, user_id)
            accounts.open_session(conn, _digest(session), user_id, now, now + self._policy.session_ttl)
        return _principal(row), session

    def logout(self, session: str) -> None:
        with self._transaction() as conn:
            accounts.close_session(conn, _digest(session))

    def from_session(self, session: str, now: datetime) -> Principal | None:
        with self._transaction() as conn:
            row = accounts.session_user(conn, _digest(session), now)
        return _principal(row) if row else None

    def from_token(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._transaction() as conn:
            row = accounts.token_user(conn, _digest(token))
        return _principal(row) if row else None

    def add_user(self, user_id: str, display_name: str, role: Role, unit_code: str, password: str | None,
                 now: datetime) -> None:
        """A new account; integration accounts get no password (tokens only)."""
        with self._transaction() as conn:
            accounts.add_user(conn, user_id, display_name, role.value, unit_code,
                              hash_password(password) if password else None, now)

    def issue_token(self, user_id: str, name: str, now: datetime) -> str:
        """A new bearer token for `user_id`; shown once, stored only as its hash."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._transaction() as conn:
            if accounts.user(conn, user_id) is None:
                raise KeyError(user_id)
            accounts.add_token(conn, _digest(token), user_id, name, now)
        return token

    @staticmethod
    def _verify(password_hash: str, password: str) -> bool:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
