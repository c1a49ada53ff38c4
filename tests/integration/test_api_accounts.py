"""Accounts fit for a government system, over HTTP on PostgreSQL: login back-off per source and per account
(spraying slowed, the victim not locked out), bounded password checks, the password policy, the forced
change after a reset, normalised names, the idle timeout, expiring tokens and `make run`'s rotated ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from ipaddress import ip_network

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from api.demo import DEMO_PASSWORD
from api.identity import LoginPolicy
from router.store.tables import access_log, api_tokens
from tests.integration.api_support import PRODUCTION_HASHER, TEST_HASHER, TEST_POLICY, ApiUnderTest
from workers.run import _demo_accounts

SPRAYED = ["xintang-op", "xintang-leader", "beigan-op", "beigan-leader", "shushan-op", "shushan-leader",
           "yingfeng-op", "yingfeng-leader", "guali-op", "guali-leader", "district-dispatcher", "district-supervisor"]


def _started(pg_url: str, policy: LoginPolicy, hasher: PasswordHasher = TEST_HASHER) -> Iterator[ApiUnderTest]:
    under_test = ApiUnderTest.start(pg_url, policy=policy, hasher=hasher)
    yield under_test
    under_test.stop()


@pytest.fixture
def behind_proxy(pg_url) -> Iterator[ApiUnderTest]:
    """The API behind a reverse proxy on 127.0.0.1, whose X-Forwarded-For names each client."""
    yield from _started(pg_url, replace(TEST_POLICY, trusted_proxies=(ip_network("127.0.0.1/32"),)))


def _login(client: httpx.Client, user: str, password: str, source: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": source} if source else {}
    return client.post("/api/v1/session", json={"username": user, "password": password}, headers=headers)


def test_spraying_across_accounts_is_slowed_per_source_and_the_victims_still_sign_in(behind_proxy):
    api = behind_proxy
    attacker = "203.0.113.9"
    with closing(api.client()) as anonymous:
        answers = [_login(anonymous, user, guess, attacker)
                   for guess in ("123456", "password", "qwerty", "fengqiao") for user in SPRAYED]
        statuses = [a.status_code for a in answers]
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses
        held = answers[10]
        assert held.json()["code"] == "login_throttled" and int(held.headers["Retry-After"]) >= 1
        assert "fengqiao_session" not in held.cookies

        for user in SPRAYED:  # no account is locked: each owner signs in from their own desk
            assert _login(anonymous, user, DEMO_PASSWORD, "10.20.0.7").status_code == 200, user
        assert _login(anonymous, "xintang-op", DEMO_PASSWORD, attacker).status_code == 429, "the attacker is not"

    with api.engine.connect() as conn:
        held_rows = conn.execute(select(access_log.c.detail).where(access_log.c.action == "login",
                                                                   access_log.c.status == 429)).scalars().all()
    assert len(held_rows) == len(SPRAYED) * 4 - 10 + 1 and all("source backing off" in d for d in held_rows)


def test_a_forged_forwarded_for_does_not_escape_the_back_off_without_a_trusted_proxy(api):
    with closing(api.client()) as anonymous:
        statuses = [_login(anonymous, f"nobody-{n}", "guess", f"198.51.100.{n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_a_strangers_guesses_delay_the_owner_by_the_short_account_cap_only(behind_proxy):
    api = behind_proxy
    cap = TEST_POLICY.account_backoff.cap
    addresses = (f"203.0.113.{n}" for n in range(200))
    checked = 0
    with closing(api.client()) as anonymous:
        while checked < 12:  # from ever new addresses, each guess waiting out the account's back-off
            answer = _login(anonymous, "xintang-op", "guess", next(addresses))
            if answer.status_code == 429:
                api.clock.advance(timedelta(seconds=int(answer.headers["Retry-After"])))
            else:
                checked += 1
        owner = _login(anonymous, "xintang-op", DEMO_PASSWORD, "10.20.0.7")
        assert owner.status_code == 429 and 0 < int(owner.headers["Retry-After"]) <= cap.total_seconds()
        api.clock.advance(cap)
        assert _login(anonymous, "xintang-op", DEMO_PASSWORD, "10.20.0.7").status_code == 200


@pytest.fixture
def two_checks(pg_url) -> Iterator[ApiUnderTest]:
    yield from _started(pg_url, replace(TEST_POLICY, concurrent_checks=2, trusted_proxies=(ip_network("127.0.0.1/32"),)),
                        PRODUCTION_HASHER)


def test_sixteen_parallel_failed_logins_run_at_most_the_bounded_number_of_argon2_checks(two_checks):
    """Each argon2 check holds 64 MiB: with two slots, 16 parallel wrong passwords (from 16 addresses, so no
    back-off applies) never have more than two in memory; the rest wait for a slot or are told 503."""
    api = two_checks
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def guess(n: int) -> None:
        with closing(api.client()) as client:
            start.wait()
            status = _login(client, SPRAYED[n % len(SPRAYED)], "wrong-guess", f"198.51.100.{n}").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checks = api.services.identity.checks
    assert set(statuses) <= {401, 503} and len(statuses) == 16, statuses
    assert 1 <= checks.high_water <= 2 and checks.in_use == 0


def test_a_reset_ends_the_sessions_and_confines_the_account_to_changing_its_password(api):
    with closing(api.client("xintang-op")) as before:
        assert api.services.identity.reset_password("xintang-op", "temporary-pass-4821") == 1
        assert before.get("/api/v1/me").status_code == 401

    with closing(api.client("XINTANG-OP", "temporary-pass-4821")) as op:
        me = op.get("/api/v1/me").json()
        assert me["must_change_password"] is True and me["user_id"] == "xintang-op"
        refused = op.get("/api/v1/orders")
        assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"

        weak = op.post("/api/v1/me/password", json={"old": "temporary-pass-4821", "new": "xintang-op-2026"})
        assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
        assert "用户名" in weak.json()["message"]
        wrong = op.post("/api/v1/me/password", json={"old": "not-it-at-all", "new": "my-own-choice-7731"})
        assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"

        changed = op.post("/api/v1/me/password", json={"old": "temporary-pass-4821", "new": "my-own-choice-7731"})
        assert changed.status_code == 200 and changed.json()["must_change_password"] is False
        assert op.get("/api/v1/orders").status_code == 200  # the new session cookie the answer set
    assert api.client("xintang-op", "my-own-choice-7731").get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("typed", ["XINTANG-OP", "ｘｉｎｔａｎｇ－ｏｐ", " xintang-op "])
def test_any_form_of_a_user_name_signs_in_to_the_one_account(api, typed):
    with closing(api.client(typed)) as client:
        assert client.get("/api/v1/me").json()["user_id"] == "xintang-op"


@pytest.fixture
def idle_half_hour(pg_url) -> Iterator[ApiUnderTest]:
    yield from _started(pg_url, LoginPolicy())


def test_a_session_unused_for_the_idle_timeout_is_ended_and_each_request_extends_it(idle_half_hour):
    api = idle_half_hour
    with closing(api.client("xintang-op")) as op:
        for _ in range(3):
            api.clock.advance(timedelta(minutes=29))
            assert op.get("/api/v1/me").status_code == 200
        api.clock.advance(timedelta(minutes=30))
        assert op.get("/api/v1/me").status_code == 401


def test_an_expired_token_is_refused(api):
    with closing(api.token_client("xintang-system")) as system:
        assert system.get("/api/v1/orders").status_code == 200
        api.clock.advance(timedelta(days=90))
        assert system.get("/api/v1/orders").status_code == 401


def test_each_make_run_replaces_the_demo_tokens_instead_of_adding_to_them(api, capsys):
    for _ in range(3):
        _demo_accounts(api.services)
    printed = capsys.readouterr().err
    with api.engine.connect() as conn:
        live = dict(conn.execute(select(api_tokens.c.user_id, func.count()).where(api_tokens.c.revoked_at.is_(None))
                                 .group_by(api_tokens.c.user_id)).all())
    integrations = [u for u, user in api.users.items() if user.role.value == "integration"]
    assert live == {u: 1 for u in integrations}
    assert DEMO_PASSWORD in printed
