"""The shell's clock (workers/clock.py) on a fake wall clock: real by default, or showing `origin` at
the real instant `epoch` and running `speed` times faster, the same in every process that shares them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers import clock
from workers.clock import make_clock

WALL = datetime(2030, 3, 9, 12, 0, tzinfo=UTC)  # a Saturday noon, far from the origin below
ORIGIN = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The wall clock the module reads, moved by the test."""
    now = [WALL]
    monkeypatch.setattr(clock, "utc_now", lambda: now[0])
    return now


def test_by_default_it_is_the_wall_clock(wall):
    assert make_clock()() == WALL
    wall[0] += timedelta(seconds=5)
    assert make_clock()() == WALL + timedelta(seconds=5)


def test_origin_is_shown_at_the_epoch_and_time_runs_at_speed(wall):
    moved = make_clock(30, epoch=WALL, origin=ORIGIN)
    assert moved() == ORIGIN
    wall[0] += timedelta(seconds=10)
    assert moved() == ORIGIN + timedelta(minutes=5)


def test_a_restarted_process_with_the_same_settings_agrees(wall):
    first = make_clock(30, epoch=WALL, origin=ORIGIN)
    wall[0] += timedelta(seconds=20)
    restarted = make_clock(30, epoch=WALL, origin=ORIGIN)
    assert restarted() == first() == ORIGIN + timedelta(minutes=10)


def test_an_origin_alone_starts_there_when_the_process_starts(wall):
    moved = make_clock(origin=ORIGIN)
    wall[0] += timedelta(seconds=3)
    assert moved() == ORIGIN + timedelta(seconds=3)


def test_an_epoch_alone_is_where_an_accelerated_clock_starts(wall):
    fast = make_clock(1000, epoch=WALL)
    wall[0] += timedelta(seconds=1)
    assert fast() == WALL + timedelta(seconds=1000)
