"""The incident (警情) as the core sees it, independent of any wire format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Datum(StrEnum):
    """Coordinate reference: GPS (WGS-84) or the Chinese map datum (GCJ-02, 火星坐标)."""

    WGS84 = "WGS-84"
    GCJ02 = "GCJ-02"


@dataclass(frozen=True, slots=True)
class Point:
    lon: float
    lat: float
    datum: Datum = Datum.WGS84


@dataclass(frozen=True, slots=True)
class Incident:
    """One record of the police dispatch feed, already validated."""

    incident_id: str
    received_at: datetime
    channel: str
    summary: str
    address: str = ""
    category_code: str | None = None
    category_name: str | None = None
    point: Point | None = None
    town_code: str | None = None
