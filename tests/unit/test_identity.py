"""Logins, lockout, sessions and tokens on SQLite, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.identity import Identity, LoginFailed, LoginPolicy
from router.domain.lifecycle import Role
from router.store import accounts
from router.store.database import make_engine
from router.store.migrate import upgrade

T0 = datetime(2026, 11, 30, 1, tzinfo=UTC)


@pytest.fixture
def identity(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    upgrade(engine)
    identity = Identity(engine.begin, LoginPolicy(session_ttl=timedelta(hours=12), max_failures=3,
                                                  lockout=timedelta(minutes=15)))
    identity.add_user("op", "值班员", Role.TOWN_OPERATOR, "330109004", "correct horse", T0)
    identity.add_user("system", "四平台", Role.INTEGRATION, "330109004", None, T0)
    yield identity, engine
    engine.dispose()


def test_a_session_opens_with_the_right_password_and_expires(identity):
    ident, _ = identity
    who, session = ident.login("op", "correct horse", T0)
    assert (who.user_id, who.role, who.town) == ("op", Role.TOWN_OPERATOR, "330109004")
    assert ident.from_session(session, T0 + timedelta(hours=11)) == who
    assert ident.from_session(session, T0 + timedelta(hours=12)) is None
    ident.logout(session)
    assert ident.from_session(session, T0) is None


def test_a_login_clears_the_users_expired_sessions(identity):
    ident, engine = identity
    ident.login("op", "correct horse", T0)
    ident.login("op", "correct horse", T0 + timedelta(hours=1))
    ident.login("op", "correct horse", T0 + timedelta(hours=12, minutes=30))  # only the first has expired
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from login_sessions").scalar_one() == 2


def test_repeated_failures_lock_the_account_even_against_the_right_password_until_the_lockout_ends(identity):
    ident, engine = identity
    for _ in range(3):
        with pytest.raises(LoginFailed):
            ident.login("op", "wrong", T0)
    with pytest.raises(LoginFailed, match="locked"):
        ident.login("op", "correct horse", T0 + timedelta(minutes=14))
    who, _ = ident.login("op", "correct horse", T0 + timedelta(minutes=15))
    assert who.user_id == "op"
    with engine.connect() as conn:
        assert accounts.user(conn, "op")["failed_logins"] == 0


@pytest.mark.parametrize(("user", "password"), [("nobody", "x"), ("system", "")])
def test_unknown_and_token_only_accounts_cannot_log_in(identity, user, password):
    with pytest.raises(LoginFailed):
        identity[0].login(user, password or "anything", T0)


def test_a_token_is_stored_only_as_its_hash_and_names_its_user(identity):
    ident, engine = identity
    token = ident.issue_token("system", "四平台对接", T0)
    assert token.startswith("fq_") and ident.from_token(token).role is Role.INTEGRATION
    assert ident.from_token(token + "x") is None and ident.from_token("not-a-token") is None
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("select token_hash from api_tokens").scalar_one()
    assert token not in stored and len(stored) == 64
    with pytest.raises(KeyError):
        ident.issue_token("nobody", "x", T0)


def test_every_refusal_costs_a_password_check_so_timing_tells_nothing(identity, monkeypatch):
    ident, _ = identity
    checked = []
    monkeypatch.setattr(Identity, "_verify", staticmethod(lambda h, p: checked.append(p) or False))
    for user in ("nobody", "system", "op", "op", "op", "op"):  # unknown, token-only, wrong x3, then locked
        with pytest.raises(LoginFailed):
            ident.login(user, "guess", T0)
    assert len(checked) == 6


def test_parallel_guesses_beyond_the_limit_are_refused_unchecked(identity):
    """Each attempt takes a number before its password is checked: the fourth is refused even if right."""
    ident, engine = identity
    with engine.begin() as conn:
        for _ in range(3):
            accounts.claim_login_attempt(conn, "op", T0)  # three guesses in flight, none answered yet
    with pytest.raises(LoginFailed, match="beyond the limit"):
        ident.login("op", "correct horse", T0)
    with pytest.raises(LoginFailed, match="locked"):
        ident.login("op", "correct horse", T0 + timedelta(minutes=14))
