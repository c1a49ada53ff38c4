"""The shell's clock: read once per batch or tick and handed to the core.

Tests and demos can move it: it shows `origin` at the real instant `epoch` and runs `speed` times
faster than real time from there (an hour of SLA time in a minute). Every process given the same
epoch, origin and speed agrees on the time, also across a restart. A test pins the day and hour its
engine sees with `origin` (say a working Wednesday morning), whatever day it runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_clock(speed: float = 1.0, epoch: datetime | None = None,
               origin: datetime | None = None) -> Callable[[], datetime]:
    """`epoch` defaults to now (this process's start), `origin` to `epoch`: then it is the real clock."""
    if speed == 1.0 and origin is None:
        return utc_now
    anchor = epoch or utc_now()
    shown = origin or anchor

    def now() -> datetime:
        return shown + (utc_now() - anchor) * speed

    return now


def configured_clock(settings: Settings) -> Callable[[], datetime]:
    """The clock `settings` ask for (FENGQIAO_CLOCK_SPEED, _EPOCH, _ORIGIN)."""
    return make_clock(settings.clock_speed, settings.clock_epoch, settings.clock_origin)
