"""Login limits: exponential back-off per source address and per account, and a bound on concurrent argon2 checks.

Both live in the API process's memory: k API processes behind one address allow k times the attempts
(docs/deploy.md). The per-account back-off is capped short, so a stranger's guesses delay the account's
owner by at most that cap; it is the per-source back-off that grows long.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from router.domain.backoff import doubling


@dataclass(frozen=True, slots=True)
class BackOff:
    """After `free` failures, each further attempt waits `base` · 2^(failures − free), at most `cap`,
    from the last failure; a key with no failure for `forget` starts again from nothing."""

    free: int
    base: timedelta
    cap: timedelta
    forget: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return doubling(self.base, self.cap, failures - self.free)


class Throttled(Exception):
    """An attempt refused unchecked while its source or its account backs off; `retry_after` says how long."""

    def __init__(self, retry_after: timedelta, why: str) -> None:
        super().__init__(why)
        self.retry_after = retry_after
        self.why = why


@dataclass(slots=True)
class _Failures:
    count: int
    last: datetime


class LoginThrottle:
    """Counts failures per source and per account; thread-safe (the API checks passwords in a thread pool)."""

    def __init__(self, source: BackOff, account: BackOff, prune_above: int = 100_000) -> None:
        self._rules = {"source": source, "account": account}
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()
        self._prune_above = prune_above

    def attempt(self, source: str, account: str, now: datetime) -> None:
        """Count one attempt before its password is checked, or raise Throttled while either key waits.

        Counting first makes the limits hold under parallel guesses: each takes a number, and those
        past the limit are refused without a check. A success or a withdrawn attempt gives it back.
        """
        keys = (("source", source), ("account", account))
        with self._lock:
            self._prune(now)
            waits = []
            for key in keys:
                seen = self._live(key, now)
                if seen is not None:
                    wait = seen.last + self._rules[key[0]].delay(seen.count) - now
                    if wait > timedelta(0):
                        waits.append((wait, f"{key[0]} backing off after {seen.count} failed logins"))
            if waits:
                raise Throttled(*max(waits))
            for key in keys:
                seen = self._live(key, now)
                self._failures[key] = _Failures(seen.count + 1 if seen else 1, now)

    def succeeded(self, source: str, account: str) -> None:
        """A right password: the account starts afresh; the source only gets this attempt back, so one
        account of its own does not wipe out its guesses at others."""
        with self._lock:
            self._failures.pop(("account", account), None)
            self._give_back(("source", source))

    def withdraw(self, source: str, account: str) -> None:
        """An attempt that was never checked (the server was busy) does not count."""
        with self._lock:
            self._give_back(("source", source))
            self._give_back(("account", account))

    def _live(self, key: tuple[str, str], now: datetime) -> _Failures | None:
        seen = self._failures.get(key)
        if seen is not None and now - seen.last >= self._rules[key[0]].forget:
            del self._failures[key]
            return None
        return seen

    def _give_back(self, key: tuple[str, str]) -> None:
        seen = self._failures.get(key)
        if seen is not None:
            seen.count -= 1
            if seen.count <= 0:
                del self._failures[key]

    def _prune(self, now: datetime) -> None:
        if len(self._failures) > self._prune_above:
            for key in list(self._failures):
                self._live(key, now)


class Busy(Exception):
    """Every password-check slot stayed taken for the whole wait."""


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class PasswordChecks:
    """argon2 hashing and verification, at most `limit` at once (each holds ~64 MiB while it runs).

    A check that finds no free slot within `wait` raises Busy. `high_water` is the most that ever ran at
    once, for tests and for the operator.
    """

    def __init__(self, limit: int, wait: timedelta, hasher: Hasher | None = None) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._wait_s = wait.total_seconds()
        self._hasher = hasher or PasswordHasher()
        self._count_lock = threading.Lock()
        self.in_use = 0
        self.high_water = 0

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._slot():
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait_s):
            raise Busy
        with self._count_lock:
            self.in_use += 1
            self.high_water = max(self.high_water, self.in_use)
        try:
            yield
        finally:
            with self._count_lock:
                self.in_use -= 1
            self._slots.release()


def client_source(peer: str | None, forwarded_for: str | None,
                  trusted_proxies: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The address a request came from: its peer's, or, when the peer is a trusted proxy, the nearest
    address in X-Forwarded-For that is not one (the ones further left are the client's to forge)."""
    trusted = tuple(trusted_proxies)

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    source = peer or "unknown"
    if not forwarded_for or not is_trusted(source):
        return source
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        source = hop
        if not is_trusted(hop):
            break
    return source
