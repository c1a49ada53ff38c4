"""The shell's clock: read once per batch or tick and handed to the core.

Tests and demos can move it: it shows `origin` at the instant `epoch` and runs `speed` times faster
than real time from there (an hour of SLA time in a minute). `epoch` is a reading of the machine's
monotonic clock (`time.monotonic()`, one clock for every process of a machine, never set back), so
processes given the same epoch, origin and speed agree on the time, also across a restart — and a
test that pins `origin` (say a working Wednesday morning) reads no wall clock at all: what its
engine sees depends only on the origin and the time elapsed, whatever day it runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def monotonic_s() -> float:
    """The machine's monotonic clock, in seconds: what a moved clock counts elapsed time by."""
    return time.monotonic()


@dataclass(frozen=True, slots=True)
class MovedClock:
    """Shows `origin` at monotonic instant `epoch` and runs `speed` times faster from there."""

    speed: float
    epoch: float  # a time.monotonic() reading
    origin: datetime

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(monotonic_s() - self.epoch) * self.speed)

    def instant(self, shown: datetime) -> float:
        """The monotonic instant at which this clock shows `shown`."""
        return self.epoch + (shown - self.origin).total_seconds() / self.speed


def make_clock(speed: float = 1.0, epoch: float | None = None,
               origin: datetime | None = None) -> Callable[[], datetime]:
    """`epoch` defaults to now (this process's start), `origin` to the real time then: with speed 1 and
    no origin it is the real clock."""
    if speed == 1.0 and origin is None:
        return utc_now
    return MovedClock(speed, monotonic_s() if epoch is None else epoch, origin or utc_now()).now


def configured_clock(settings: Settings) -> Callable[[], datetime]:
    """The clock `settings` ask for (FENGQIAO_CLOCK_SPEED, _EPOCH, _ORIGIN)."""
    return make_clock(settings.clock_speed, settings.clock_epoch, settings.clock_origin)
