"""The shell's clock: read once per batch or tick and handed to the core.

`speed` > 1 runs time faster from `epoch` (an hour of SLA time in a minute), so end-to-end
tests and demos can watch warnings, breaches and escalations without waiting; every process
given the same epoch and speed agrees on the time, also across a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_clock(speed: float = 1.0, epoch: datetime | None = None) -> Callable[[], datetime]:
    if speed == 1.0:
        return utc_now
    start = epoch or utc_now()

    def now() -> datetime:
        return start + (utc_now() - start) * speed

    return now
