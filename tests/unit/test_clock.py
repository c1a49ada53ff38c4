"""The shell's clock (workers/clock.py) on a fake wall clock and a fake monotonic clock: real by default,
or showing `origin` at the monotonic instant `epoch` and running `speed` times faster, the same in every
process that shares them, whatever the wall clock says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers import clock
from workers.clock import MovedClock, make_clock

WALL = datetime(2030, 3, 9, 12, 0, tzinfo=UTC)  # a Saturday noon, far from the origin below
ORIGIN = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
EPOCH = 5_000.0  # a monotonic reading: seconds since the machine booted


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The wall and monotonic clocks the module reads, both moved by `tick`."""
    now = {"wall": WALL, "mono": EPOCH}

    def tick(seconds: float) -> None:
        now["wall"] += timedelta(seconds=seconds)
        now["mono"] += seconds

    monkeypatch.setattr(clock, "utc_now", lambda: now["wall"])
    monkeypatch.setattr(clock, "monotonic_s", lambda: now["mono"])
    return {"tick": tick, "now": now}


def test_by_default_it_is_the_wall_clock(clocks):
    assert make_clock()() == WALL
    clocks["tick"](5)
    assert make_clock()() == WALL + timedelta(seconds=5)


def test_origin_is_shown_at_the_epoch_and_time_runs_at_speed(clocks):
    moved = make_clock(30, epoch=EPOCH, origin=ORIGIN)
    assert moved() == ORIGIN
    clocks["tick"](10)
    assert moved() == ORIGIN + timedelta(minutes=5)


def test_a_moved_clock_ignores_the_wall_clock(clocks):
    moved = make_clock(30, epoch=EPOCH, origin=ORIGIN)
    clocks["now"]["wall"] = datetime(2031, 1, 1, tzinfo=UTC)  # the wall clock set to another day
    assert moved() == ORIGIN


def test_a_restarted_process_with_the_same_settings_agrees(clocks):
    first = make_clock(30, epoch=EPOCH, origin=ORIGIN)
    clocks["tick"](20)
    restarted = make_clock(30, epoch=EPOCH, origin=ORIGIN)
    assert restarted() == first() == ORIGIN + timedelta(minutes=10)


def test_an_origin_alone_starts_there_when_the_process_starts(clocks):
    moved = make_clock(origin=ORIGIN)
    clocks["tick"](3)
    assert moved() == ORIGIN + timedelta(seconds=3)


def test_an_epoch_alone_is_where_an_accelerated_clock_starts_showing_the_real_time(clocks):
    fast = make_clock(1000, epoch=EPOCH)
    clocks["tick"](1)
    assert fast() == WALL + timedelta(seconds=1000)


def test_the_instant_a_time_is_shown_is_read_back(clocks):
    moved = MovedClock(20, EPOCH, ORIGIN)
    assert moved.instant(ORIGIN + timedelta(minutes=10)) == EPOCH + 30
