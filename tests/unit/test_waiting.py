"""Start-up waits for what it needs: back-off between attempts, one log line per failure."""

from __future__ import annotations

import pytest
import structlog

from workers.waiting import LONGEST_WAIT_S, until_reachable


class _Down(Exception):
    pass


def test_attempts_again_with_back_off_until_the_dependency_answers():
    outcomes = iter([_Down("connection refused\nmore detail"), _Down("still refused"), *[_Down("x")] * 4, "up"])
    slept: list[float] = []

    def attempt() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with structlog.testing.capture_logs() as logged:
        assert until_reachable("database_unreachable", attempt, (_Down,), sleep=slept.append, database="db") == "up"
    assert slept == [0.5, 1.0, 2.0, LONGEST_WAIT_S, LONGEST_WAIT_S, LONGEST_WAIT_S]
    assert logged[0] == {"event": "database_unreachable", "log_level": "warning", "retry_in_s": 0.5,
                         "reason": "connection refused", "database": "db"}


def test_an_error_it_is_not_told_to_wait_for_is_raised():
    def attempt() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        until_reachable("database_unreachable", attempt, (_Down,), sleep=lambda _: None)
