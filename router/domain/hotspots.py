"""High-incidence areas (高发区域): places where one matter type recurs beyond what is normal for them.

A place is a village (its gazetteer code), else a coordinate cell, else a normalised address
(`place_key`). For each place and matter type, the incidents of the rolling window (the last
`window_days`) are tested against the place's own history (the `baseline_days` before the
window) as a Poisson rate: the window is expected to hold `baseline × window / baseline_days`
incidents, never fewer than `min_expected`, and the place is a hotspot when at least
`min_count` incidents fell in the window and a count this high would happen by chance with
probability below `p_value` (one-sided test). The method and its reasons are in docs/hotspots.md.
`before_after` compares incidents over equal windows around the start of targeted work (专项整治).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class HotspotRules:
    """`[hotspots]` in bundle.toml; the defaults are documented in docs/hotspots.md."""

    window_days: int = 30
    baseline_days: int = 180
    min_count: int = 3
    p_value: float = 0.01
    min_expected: float = 0.5  # the expected count of a place with no history: a first cluster is not certain
    cell_metres: float = 200.0  # coordinate cells' side, for incidents placed by coordinates only


@dataclass(frozen=True, slots=True)
class Sighting:
    """One incident as the test sees it: where, what, when."""

    place: str
    matter_type: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Hotspot:
    place: str
    matter_type: str
    count: int  # incidents in the window
    baseline: int  # incidents in the baseline period before it
    expected: float  # the window's expected count from the baseline
    p_value: float  # P(X >= count) for X ~ Poisson(expected)


def place_key(village_code: str | None, lon: float | None, lat: float | None, address: str | None,
              cell_metres: float) -> str | None:
    """The place an incident counts for: `village:<code>`, `cell:<lat>,<lon>` (the cell's south-west corner),
    `address:<text>` (whitespace removed), or None when nothing places it."""
    if village_code:
        return f"village:{village_code}"
    if lon is not None and lat is not None:
        step_lat = cell_metres / 111_320.0
        row = math.floor(lat / step_lat) * step_lat  # the row's latitude sets its cells' width
        step_lon = cell_metres / (111_320.0 * max(math.cos(math.radians(row)), 0.01))
        return f"cell:{row:.5f},{math.floor(lon / step_lon) * step_lon:.5f}"
    text = "".join((address or "").split())
    return f"address:{text}" if text else None


def poisson_tail(count: int, expected: float) -> float:
    """P(X >= count) for X ~ Poisson(expected), summed in a numerically stable way."""
    if count <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, count):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def find(sightings: Iterable[Sighting], now: datetime, rules: HotspotRules) -> list[Hotspot]:
    """The hotspots as of `now`, the least likely first (then the largest count, then place)."""
    window_start = now - timedelta(days=rules.window_days)
    baseline_start = window_start - timedelta(days=rules.baseline_days)
    window: Counter[tuple[str, str]] = Counter()
    baseline: Counter[tuple[str, str]] = Counter()
    for s in sightings:
        key = (s.place, s.matter_type)
        if window_start <= s.at < now:
            window[key] += 1
        elif baseline_start <= s.at < window_start:
            baseline[key] += 1
    found = []
    for (place, matter_type), count in window.items():
        if count < rules.min_count:
            continue
        past = baseline[(place, matter_type)]
        expected = max(past * rules.window_days / rules.baseline_days, rules.min_expected)
        p = poisson_tail(count, expected)
        if p < rules.p_value:
            found.append(Hotspot(place, matter_type, count, past, expected, p))
    return sorted(found, key=lambda h: (h.p_value, -h.count, h.place, h.matter_type))


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """Incidents over equal windows before and after targeted work began; `days` each."""

    days: float
    before: int
    after: int

    @property
    def fell(self) -> bool | None:
        """True when fewer came after; None while no time has passed since it began."""
        return None if self.days <= 0 else self.after < self.before


def before_after(times: Iterable[datetime], started: datetime, now: datetime, window_days: int) -> BeforeAfter:
    """Counts in [started - d, started) and [started, started + d), d the window or the time since it began."""
    span = max(min(timedelta(days=window_days), now - started), timedelta(0))
    before = after = 0
    for at in times:
        if started - span <= at < started:
            before += 1
        elif started <= at < started + span:
            after += 1
    return BeforeAfter(span.total_seconds() / 86400, before, after)
