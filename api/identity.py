"""Who is calling: password login with sessions (console), bearer tokens (integrations), login limits.

Secrets are stored only as hashes: argon2id for passwords, SHA-256 for session cookies and
tokens (random 256-bit values need no slow hash). A disabled or unknown account fails exactly
like a wrong password, so a login form does not tell which user names exist.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from api.login_limits import BackOff, Busy, LoginThrottle, PasswordChecks, Throttled
from router.domain.credentials import TOKEN_PREFIX, normalise_user_name, password_problems, secret_digest
from router.domain.lifecycle import TOWN_ROLES, Role
from router.domain.privacy import sees_callers
from router.store import accounts

SESSION_COOKIE = "fengqiao_session"
# Verifying against this keeps unknown-user logins as slow as real ones.
_DUMMY_HASH = PasswordHasher().hash(secrets.token_hex(16))
# What a session may still do while its password must be changed.
PASSWORD_CHANGE_ACTIONS = frozenset({"me", "me.password", "logout"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user, as every handler sees it."""

    user_id: str
    display_name: str
    role: Role
    unit_code: str
    must_change_password: bool = False

    @property
    def town(self) -> str | None:
        """The one town this user is confined to; None for district roles, who see every town."""
        return self.unit_code if self.role in TOWN_ROLES else None

    @property
    def sees_callers(self) -> bool:
        return sees_callers(self.role)


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How long sessions live, how logins back off, how many password checks run at once."""

    session_ttl: timedelta = timedelta(hours=12)
    idle_timeout: timedelta = timedelta(minutes=30)
    source_backoff: BackOff = BackOff(free=10, base=timedelta(seconds=1), cap=timedelta(minutes=15))
    account_backoff: BackOff = BackOff(free=5, base=timedelta(seconds=1), cap=timedelta(seconds=30))
    concurrent_checks: int = 4
    check_wait: timedelta = timedelta(seconds=2)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


class LoginFailed(Exception):
    """Wrong user name or password, a disabled or token-only account, or an attempt refused unchecked while
    its source or account backs off (`retry_after` set); `why` says which, for the audit only.

    `known` is False for a user name that names no account: often a password typed in the wrong
    box, so it is not written to the access log.
    """

    def __init__(self, user_id: str, why: str, known: bool = True, retry_after: timedelta | None = None) -> None:
        super().__init__(why)
        self.user_id = user_id
        self.why = why
        self.known = known
        self.retry_after = retry_after


class WeakPassword(ValueError):
    """A password the policy refuses; `problems` in the operator's words."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


class NameTaken(ValueError):
    """An account of that name, in its normalised form, exists already."""


def _refused(row: RowMapping | None) -> tuple[str, bool]:
    """Why an account that could not even try a password was refused, and whether it exists (audit only)."""
    if row is None:
        return "unknown user", False
    if row["disabled"]:
        return "disabled account", True
    return "token-only account", True


def _principal(row: RowMapping) -> Principal:
    return Principal(row["user_id"], row["display_name"], Role(row["role"]), row["unit_code"],
                     row["password_change_required"])


def _checked_password(password: str, user_id: str) -> str:
    if problems := password_problems(password, user_id):
        raise WeakPassword(problems)
    return password


class Identity:
    """Logins, sessions, passwords and tokens over the accounts tables."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]], policy: LoginPolicy,
                 checks: PasswordChecks | None = None) -> None:
        self._transaction = transaction
        self._policy = policy
        self._throttle = LoginThrottle(policy.source_backoff, policy.account_backoff)
        self.checks = checks or PasswordChecks(policy.concurrent_checks, policy.check_wait)

    @property
    def policy(self) -> LoginPolicy:
        return self._policy

    def login(self, user_name: str, password: str, source: str, now: datetime) -> tuple[Principal, str]:
        """A new session cookie value for a correct password; raises as `_authenticate` does."""
        row = self._authenticate(user_name, password, source, now)
        return _principal(row), self._open_session(row["user_id"], now)

    def change_password(self, who: Principal, old: str, new: str, source: str, now: datetime) -> str:
        """Replace `who`'s password once the old one is checked (under the login limits); every session of the
        account ends and the new session's cookie value is returned. WeakPassword before anything is checked."""
        _checked_password(new, who.user_id)
        row = self._authenticate(who.user_id, old, source, now)
        password_hash = self.checks.hash(new)
        with self._transaction() as conn:
            accounts.set_password(conn, row["user_id"], password_hash, change_required=False)
            accounts.close_user_sessions(conn, row["user_id"])
        return self._open_session(row["user_id"], now)

    def reset_password(self, user_name: str, password: str) -> int:
        """An administrator's reset: the new password must be changed at the next sign-in, every session of
        the account ends; the number of sessions ended. KeyError for no such password account."""
        with self._transaction() as conn:
            row = accounts.user(conn, user_name)
        if row is None or row["password_hash"] is None:
            raise KeyError(user_name)
        password_hash = self.checks.hash(_checked_password(password, row["user_id"]))
        with self._transaction() as conn:
            accounts.set_password(conn, row["user_id"], password_hash, change_required=True)
            return accounts.close_user_sessions(conn, row["user_id"])

    def logout(self, session: str) -> None:
        with self._transaction() as conn:
            accounts.close_session(conn, secret_digest(session))

    def from_session(self, session: str, now: datetime) -> Principal | None:
        """The user of a live session, which this use keeps alive for the idle timeout."""
        with self._transaction() as conn:
            row = accounts.session_user(conn, secret_digest(session), now, self._policy.idle_timeout)
        return _principal(row) if row else None

    def from_token(self, token: str, now: datetime) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._transaction() as conn:
            row = accounts.token_user(conn, secret_digest(token), now)
        return _principal(row) if row else None

    def add_user(self, user_name: str, display_name: str, role: Role, unit_code: str, password: str | None,
                 now: datetime) -> str:
        """A new account under the normalised form of `user_name`, which is returned; integration accounts get
        no password (tokens only). WeakPassword, or NameTaken when the name in that form exists."""
        user_id = normalise_user_name(user_name)
        password_hash = self.checks.hash(_checked_password(password, user_id)) if password is not None else None
        try:
            with self._transaction() as conn:
                accounts.add_user(conn, user_id, display_name, role.value, unit_code, password_hash, now)
        except IntegrityError:
            raise NameTaken(user_id) from None
        return user_id

    def issue_token(self, user_name: str, name: str, now: datetime, valid: timedelta = timedelta(days=90),
                    rotate: bool = False) -> str:
        """A new bearer token for the account, valid for `valid`; shown once, stored only as its hash.

        `rotate` revokes the account's other live tokens of the same `name` in the same transaction.
        KeyError for no such account.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._transaction() as conn:
            row = accounts.user(conn, user_name)
            if row is None:
                raise KeyError(user_name)
            accounts.add_token(conn, secret_digest(token), row["user_id"], name, now, now + valid)
            if rotate:
                accounts.revoke_named_tokens(conn, row["user_id"], name, now, keep=secret_digest(token))
        return token

    def _authenticate(self, user_name: str, password: str, source: str, now: datetime) -> RowMapping:
        """The account row for a correct password.

        Raises LoginFailed with `retry_after` (no password checked) while `source` or the account backs off,
        Busy when no password-check slot came free in time, LoginFailed otherwise. Every other LoginFailed
        costs one argon2 verification, so neither the answer nor its timing tells a disabled or unknown
        account from a wrong password.
        """
        name = normalise_user_name(user_name)
        with self._transaction() as conn:
            row = accounts.user(conn, name)
        try:
            self._throttle.attempt(source, name, now)
        except Throttled as refused:
            raise LoginFailed(name, refused.why, row is not None, refused.retry_after) from None
        try:
            if row is None or row["disabled"] or row["password_hash"] is None:
                self.checks.verify(_DUMMY_HASH, password)
                raise LoginFailed(name, *_refused(row))
            if not self.checks.verify(row["password_hash"], password):
                raise LoginFailed(name, "wrong password")
        except Busy:
            self._throttle.withdraw(source, name)
            raise
        self._throttle.succeeded(source, name)
        return row

    def _open_session(self, user_id: str, now: datetime) -> str:
        session = secrets.token_urlsafe(32)
        with self._transaction() as conn:
            accounts.open_session(conn, secret_digest(session), user_id, now, now + self._policy.session_ttl,
                                  now + self._policy.idle_timeout)
        return session
