"""The closed loop's bundle data (SLA table, lifecycle rules, calendar) and repeated-report matching.

A new non-police incident that matches an open order — same town and matter type, the same
village or address, or within `radius_m` when both have coordinates, inside the window — is
merged into it (并单) rather than opening a second order. An order that keeps recurring
becomes a key dispute (重点矛盾纠纷).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.lifecycle import LifecycleRules
from router.domain.sla import SlaTable
from router.domain.workdays import WorkCalendar

_EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class MergeRules:
    window: timedelta
    radius_m: float
    key_dispute_reports: int  # this many reports ...
    key_dispute_window: timedelta  # ... within this window flag a key dispute
    key_dispute_working_days: int  # its resolution deadline
    key_dispute_matter_types: frozenset[str] = frozenset()  # only these can become one; empty: any

    def may_be_key_dispute(self, matter_type: str) -> bool:
        return not self.key_dispute_matter_types or matter_type in self.key_dispute_matter_types


@dataclass(frozen=True, slots=True)
class LoopRules:
    sla: SlaTable
    lifecycle: LifecycleRules
    calendar: WorkCalendar
    merge: MergeRules


@dataclass(frozen=True, slots=True)
class Place:
    """Where a report or an open order is, as far as merging cares."""

    town_code: str
    matter_type: str
    at: datetime
    village_code: str | None = None
    address: str = ""
    lon: float | None = None
    lat: float | None = None


def same_matter(order: Place, report: Place, rules: MergeRules) -> bool:
    """Whether `report` repeats the open order `order` (both already non-police, same jurisdiction)."""
    if order.town_code != report.town_code or order.matter_type != report.matter_type:
        return False
    if abs(report.at - order.at) > rules.window:  # feeds deliver out of order
        return False
    if order.village_code and order.village_code == report.village_code:
        return True
    if order.address and order.address == report.address:
        return True
    if None not in (order.lon, order.lat, report.lon, report.lat):
        return distance_m(order.lon, order.lat, report.lon, report.lat) <= rules.radius_m
    return False


def box_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(west, east, south, north) of a box a little wider than the circle of `radius_m`: an index
    narrows candidates with it, `distance_m` then decides."""
    dlat = radius_m / 111_000 * 1.01
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); metres are what a radius in the bundle means."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))
