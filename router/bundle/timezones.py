"""`[bundle] timezone`: an IANA time zone name, and the nearest names when it is not one.

"PST", "CST" or "America/San_Diego" are not zone names; the message names what would be valid:
zones whose abbreviation the text is (PST: America/Los_Angeles, ...), else the names spelled
closest to it (difflib over `zoneinfo.available_timezones()`).
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections import Counter
from datetime import datetime
from functools import cache
from pathlib import Path

_SUGGESTIONS = 4
# A winter and a summer instant: an abbreviation is either of a zone's two ("PST", "PDT").
_SEASONS = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))


def is_zone(name: str) -> bool:
    return name in _zones()


def nearest_zones(text: str) -> list[str]:
    """Up to four IANA names for `text`: the zones it abbreviates, else the closest spellings."""
    wanted = text.strip().upper()
    abbreviating = [z for z in _canonical() if wanted in _abbreviations(z)]
    if abbreviating:
        return abbreviating[:_SUGGESTIONS]
    by_lower = {z.lower(): z for z in _zones()}
    close = difflib.get_close_matches(text.strip().lower(), by_lower, n=_SUGGESTIONS, cutoff=0.5)
    return [by_lower[z] for z in close]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _canonical() -> tuple[str, ...]:
    """The zones a suggestion names, best known first: those of `zone1970.tab` (one per region, no
    legacy links), ranked by how many old names link to them (`tzdata.zi`: US/Eastern and EST5EDT
    to America/New_York), when the system has the tables; else every zone, by name."""
    for directory in map(Path, zoneinfo.TZPATH):
        try:
            table = (directory / "zone1970.tab").read_text(encoding="utf-8").splitlines()
            compiled = (directory / "tzdata.zi").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        names = {line.split("\t")[2] for line in table if line and not line.startswith("#")} & _zones()
        links = Counter(line.split()[1] for line in compiled if line.startswith("L "))
        return tuple(sorted(names, key=lambda zone: (-links[zone], zone)))
    return tuple(sorted(_zones()))


@cache
def _abbreviations(zone: str) -> frozenset[str]:
    info = zoneinfo.ZoneInfo(zone)
    return frozenset((when.replace(tzinfo=info).tzname() or "").upper() for when in _SEASONS)
