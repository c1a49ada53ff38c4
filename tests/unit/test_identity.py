"""Logins, back-off, sessions, passwords and tokens on SQLite, with the clock passed in."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from api.identity import Identity, LoginFailed, LoginPolicy, NameTaken, WeakPassword
from api.login_limits import BackOff, Busy, PasswordChecks
from router.domain.lifecycle import Role
from router.store.database import make_engine
from router.store.migrate import upgrade

T0 = datetime(2026, 11, 30, 1, tzinfo=UTC)
PASSWORD = "correct-horse-battery"
STRANGER, OWNER = "203.0.113.7", "10.1.2.3"
POLICY = LoginPolicy(session_ttl=timedelta(hours=12), idle_timeout=timedelta(minutes=30),
                     source_backoff=BackOff(free=6, base=timedelta(seconds=1), cap=timedelta(minutes=15)),
                     account_backoff=BackOff(free=3, base=timedelta(seconds=1), cap=timedelta(seconds=30)))


class FakeHasher:
    """argon2's shape without its cost: the hash is the password reversed."""

    def hash(self, password: str) -> str:
        return password[::-1]

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == password[::-1]


@pytest.fixture
def identity(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    upgrade(engine)
    identity = Identity(engine.begin, POLICY, PasswordChecks(4, timedelta(0), FakeHasher()))
    identity.add_user("op", "值班员", Role.TOWN_OPERATOR, "330109004", PASSWORD, T0)
    identity.add_user("system", "四平台", Role.INTEGRATION, "330109004", None, T0)
    yield identity, engine
    engine.dispose()


def test_a_session_opens_with_the_right_password_and_expires(identity):
    ident, _ = identity
    who, session = ident.login("op", PASSWORD, OWNER, T0)
    assert (who.user_id, who.role, who.town) == ("op", Role.TOWN_OPERATOR, "330109004")
    for minutes in range(20, 12 * 60, 20):  # used every 20 minutes: never idle, but the 12 hours run out
        assert ident.from_session(session, T0 + timedelta(minutes=minutes)) == who
    assert ident.from_session(session, T0 + timedelta(hours=12)) is None


def test_a_session_unused_for_the_idle_timeout_ends_and_each_use_extends_it(identity):
    ident, _ = identity
    _, session = ident.login("op", PASSWORD, OWNER, T0)
    assert ident.from_session(session, T0 + timedelta(minutes=29)) is not None
    assert ident.from_session(session, T0 + timedelta(minutes=58)) is not None  # 29 min after the last use
    assert ident.from_session(session, T0 + timedelta(minutes=88)) is None  # 30 min unused
    assert ident.from_session(session, T0 + timedelta(minutes=89)) is None, "an idle session stays ended"


def test_logout_ends_the_session(identity):
    ident, _ = identity
    _, session = ident.login("op", PASSWORD, OWNER, T0)
    ident.logout(session)
    assert ident.from_session(session, T0) is None


def test_a_login_clears_the_users_ended_sessions(identity):
    ident, engine = identity
    ident.login("op", PASSWORD, OWNER, T0)
    ident.login("op", PASSWORD, OWNER, T0 + timedelta(minutes=10))
    ident.login("op", PASSWORD, OWNER, T0 + timedelta(minutes=35))  # only the first has been idle 30 min
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from login_sessions").scalar_one() == 2


@pytest.mark.parametrize("typed", ["OP", "ｏｐ", " op ", "Op\u3000"])
def test_any_form_that_normalises_to_the_name_signs_in(identity, typed):
    assert identity[0].login(typed, PASSWORD, OWNER, T0)[0].user_id == "op"


@pytest.mark.parametrize("name", ["OP", "ｏｐ", "op ", "Ｏｐ"])
def test_a_name_that_normalises_to_a_taken_one_is_refused(identity, name):
    with pytest.raises(NameTaken):
        identity[0].add_user(name, "冒名", Role.ADMIN, "330109", "another-good-password-1", T0)


def test_a_new_account_is_stored_under_its_normalised_name(identity):
    assert identity[0].add_user(" Ｗang-Op ", "王", Role.TOWN_OPERATOR, "330109004", PASSWORD, T0) == "wang-op"


@pytest.mark.parametrize(("password", "problem"), [
    ("short-pw-1", "至少12位"),
    ("newuser-and-more", "用户名"),
    ("xxNEWUSERxxxxxx", "用户名"),
    ("1qaz2wsx3edc", "常见"),
    ("Password1234", "常见"),
    ("ＰＡＳＳＷＯＲＤ１２３４", "常见"),
])
def test_the_password_policy_refuses_short_named_and_common_passwords(identity, password, problem):
    with pytest.raises(WeakPassword) as refused:
        identity[0].add_user("newuser", "新人", Role.TOWN_OPERATOR, "330109004", password, T0)
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_failures_on_one_account_back_off_exponentially_up_to_a_short_cap_without_checking(identity, monkeypatch):
    """Guesses at one account from ever new addresses: only the account's back-off holds them."""
    ident, _ = identity
    checked = []
    real = ident.checks.verify
    monkeypatch.setattr(ident.checks, "verify", lambda h, p: checked.append(p) or real(h, p))
    sources = (f"198.51.100.{n}" for n in range(100))
    now = T0
    for _ in range(3):  # the free failures
        with pytest.raises(LoginFailed) as failed:
            ident.login("op", "guess", next(sources), now)
        assert failed.value.retry_after is None
    waits = []
    for _ in range(8):
        with pytest.raises(LoginFailed) as held:
            ident.login("op", "guess", next(sources), now)
        waits.append(held.value.retry_after)
        now += held.value.retry_after
        with pytest.raises(LoginFailed):
            ident.login("op", "guess", next(sources), now)  # checked, and wrong
    assert waits == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16, 30, 30, 30)]
    assert len(checked) == 3 + 8, "attempts refused during a back-off cost no argon2"


def _guess_until_checked(ident: Identity, user: str, source: str, now: datetime, times: int) -> datetime:
    """`times` wrong passwords that get checked, waiting out each back-off; when the last was answered."""
    for _ in range(times):
        while True:
            try:
                ident.login(user, "guess", source, now)
            except LoginFailed as failure:
                if failure.retry_after is None:
                    break
                now += failure.retry_after
    return now


def test_a_strangers_failures_delay_the_owner_by_the_account_cap_at_most(identity):
    ident, _ = identity
    now = _guess_until_checked(ident, "op", STRANGER, T0, 12)
    with pytest.raises(LoginFailed) as held:
        ident.login("op", PASSWORD, OWNER, now)
    assert timedelta(0) < held.value.retry_after <= POLICY.account_backoff.cap
    assert ident.login("op", PASSWORD, OWNER, now + POLICY.account_backoff.cap)[0].user_id == "op"
    with pytest.raises(LoginFailed) as stranger:
        ident.login("op", PASSWORD, STRANGER, now + POLICY.account_backoff.cap)
    assert stranger.value.retry_after is not None, "the stranger's address still backs off, right password or not"


def test_spraying_many_accounts_from_one_source_backs_the_source_off(identity):
    ident, _ = identity
    for n in range(8):
        ident.add_user(f"user{n}", "人", Role.TOWN_OPERATOR, "330109004", PASSWORD, T0)
    outcomes = []
    for n in range(8):  # one guess per account: no account reaches its limit
        with pytest.raises(LoginFailed) as failed:
            ident.login(f"user{n}", "guess", STRANGER, T0)
        outcomes.append(failed.value.retry_after)
    assert outcomes[:6] == [None] * 6 and all(outcomes[6:]), outcomes
    assert ident.login("user7", PASSWORD, OWNER, T0)[0].user_id == "user7", "another address is not held back"


def test_a_right_password_clears_the_account_but_not_the_sources_other_failures(identity):
    ident, _ = identity
    _guess_until_checked(ident, "op", OWNER, T0, 2)
    ident.login("op", PASSWORD, OWNER, T0)
    _guess_until_checked(ident, "op", OWNER, T0, 2)  # the account's count started again: no back-off yet
    _guess_until_checked(ident, "somebody", OWNER, T0, 2)
    with pytest.raises(LoginFailed) as held:  # 2 + 2 + 2 failures from one address: its six free ones are used
        ident.login("someone-else", "guess", OWNER, T0)
    assert held.value.retry_after is not None and "source" in held.value.why


def test_failures_are_forgotten_after_a_quiet_hour(identity):
    ident, _ = identity
    now = _guess_until_checked(ident, "op", STRANGER, T0, 8)
    assert ident.login("op", PASSWORD, STRANGER, now + timedelta(hours=1))[0].user_id == "op"


@pytest.mark.parametrize(("user", "password"), [("nobody", "x"), ("system", "")])
def test_unknown_and_token_only_accounts_cannot_log_in(identity, user, password):
    with pytest.raises(LoginFailed) as failed:
        identity[0].login(user, password or "anything", OWNER, T0)
    assert failed.value.known is (user != "nobody")


def test_every_checked_refusal_costs_a_password_check_so_timing_tells_nothing(identity, monkeypatch):
    ident, engine = identity
    with engine.begin() as conn:
        conn.exec_driver_sql("update users set disabled = true where user_id = 'op'")
    checked = []
    monkeypatch.setattr(ident.checks, "verify", lambda h, p: checked.append(p) or False)
    for user in ("nobody", "system", "op"):  # unknown, token-only, disabled
        with pytest.raises(LoginFailed):
            ident.login(user, "guess", OWNER, T0)
    assert len(checked) == 3


class GatedHasher(FakeHasher):
    """Holds every verification until the test opens the gate, so the checks in flight can be counted."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def verify(self, password_hash: str, password: str) -> bool:
        self.gate.wait()
        return super().verify(password_hash, password)


def test_no_more_than_the_limit_of_password_checks_run_at_once_the_others_are_busy(tmp_path):
    """16 parallel failed logins (distinct sources and accounts, so no back-off applies): 2 are checked at a
    time, the 14 that find no free slot are refused as Busy, and they do not count as failures."""
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    upgrade(engine)
    hasher = GatedHasher()
    checks = PasswordChecks(2, timedelta(0), hasher)
    ident = Identity(engine.begin, POLICY, checks)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            ident.login(f"user{n}", "guess", f"198.51.100.{n}", T0)
        except Busy:
            outcome = "busy"
        except LoginFailed:
            outcome = "failed"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    while True:  # wait for the 14 refusals: only the two checks in flight are left, held at the gate
        with lock:
            if len(outcomes) == 14:
                break
        threading.Event().wait(0.01)
    assert checks.in_use == 2 and outcomes == ["busy"] * 14
    hasher.gate.set()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy"] * 14 + ["failed"] * 2
    assert checks.high_water == 2 and checks.in_use == 0
    engine.dispose()


def test_a_reset_forces_a_change_and_ends_every_session(identity):
    ident, _ = identity
    _, first = ident.login("op", PASSWORD, OWNER, T0)
    assert ident.reset_password("OP", "temporary-pass-4821") == 1
    assert ident.from_session(first, T0) is None
    who, session = ident.login("op", "temporary-pass-4821", OWNER, T0)
    assert who.must_change_password
    with pytest.raises(WeakPassword):
        ident.change_password(who, "temporary-pass-4821", "op-op-op-op-op-op", OWNER, T0)
    with pytest.raises(LoginFailed):
        ident.change_password(who, "not-the-old-one", "my-own-choice-7731", OWNER, T0)
    renewed = ident.change_password(who, "temporary-pass-4821", "my-own-choice-7731", OWNER, T0)
    assert ident.from_session(session, T0) is None, "changing the password ends the other sessions"
    assert ident.from_session(renewed, T0).must_change_password is False
    assert ident.login("op", "my-own-choice-7731", OWNER, T0)[0].must_change_password is False


def test_a_reset_refuses_a_weak_password_and_token_only_accounts(identity):
    with pytest.raises(WeakPassword):
        identity[0].reset_password("op", "123456")
    with pytest.raises(KeyError):
        identity[0].reset_password("system", "temporary-pass-4821")


def test_a_token_is_stored_only_as_its_hash_names_its_user_and_expires(identity):
    ident, engine = identity
    token = ident.issue_token("system", "四平台对接", T0, timedelta(days=90))
    assert token.startswith("fq_") and ident.from_token(token, T0).role is Role.INTEGRATION
    assert ident.from_token(token, T0 + timedelta(days=89, hours=23)) is not None
    assert ident.from_token(token, T0 + timedelta(days=90)) is None
    assert ident.from_token(token + "x", T0) is None and ident.from_token("not-a-token", T0) is None
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("select token_hash from api_tokens").scalar_one()
    assert token not in stored and len(stored) == 64
    with pytest.raises(KeyError):
        ident.issue_token("nobody", "x", T0)


def test_rotating_a_token_revokes_the_old_ones_of_that_name_only(identity):
    ident, _ = identity
    old = ident.issue_token("system", "make run", T0)
    other = ident.issue_token("system", "四平台", T0)
    new = ident.issue_token("system", "make run", T0, rotate=True)
    assert ident.from_token(old, T0) is None
    assert ident.from_token(new, T0) is not None and ident.from_token(other, T0) is not None
