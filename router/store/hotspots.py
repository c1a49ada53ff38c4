"""High-incidence areas (高发区域) in the stored incidents, and the district's targeted work (专项整治) on them."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, RowMapping, insert, select, update

from router.domain.hotspots import BeforeAfter, Hotspot, Sighting, before_after, find
from router.domain.jurisdiction import Jurisdiction
from router.store.incident_places import PlacedIncident, placed_incidents
from router.store.tables import hotspot_campaigns


@dataclass(frozen=True, slots=True)
class Area:
    place: str
    matter_type: str
    town_code: str | None  # the town most of its incidents are in
    hotspot: Hotspot | None  # None: under targeted work, no longer a hotspot
    incidents: tuple[PlacedIncident, ...]  # its incidents in the window, newest first
    campaign: RowMapping | None
    effect: BeforeAfter | None  # with a campaign: incidents before and after it began


def areas(conn: Connection, jurisdiction: Jurisdiction, now: datetime, town: str | None) -> list[Area]:
    """Today's hotspots, then areas under targeted work that no longer are; in `town` when given."""
    rules = jurisdiction.hotspots
    window = timedelta(days=rules.window_days)
    campaigns = {(c["place"], c["matter_type"]): c for c in campaign_rows(conn, town)}
    since = min([now - window - timedelta(days=rules.baseline_days),
                 *(c["started_at"] - window for c in campaigns.values())])
    by_area: dict[tuple[str, str], list[PlacedIncident]] = defaultdict(list)
    for p in placed_incidents(conn, since, now, town, rules.cell_metres):
        if p.place and p.matter_type:
            by_area[(p.place, p.matter_type)].append(p)
    spots = {(h.place, h.matter_type): h
             for h in find((Sighting(place, matter, p.at) for (place, matter), ps in by_area.items() for p in ps),
                           now, rules)}
    keys = [*spots, *(k for k in campaigns if k not in spots)]
    result = []
    for key in keys:
        seen = by_area.get(key, [])
        towns = Counter(p.town_code for p in seen if p.town_code)
        campaign = campaigns.get(key)
        result.append(Area(key[0], key[1], towns.most_common(1)[0][0] if towns else campaign and campaign["town_code"],
                           spots.get(key), tuple(p for p in reversed(seen) if p.at >= now - window), campaign,
                           before_after((p.at for p in seen), campaign["started_at"], now, rules.window_days)
                           if campaign else None))
    return result


def campaign_rows(conn: Connection, town: str | None) -> list[RowMapping]:
    query = select(hotspot_campaigns).order_by(hotspot_campaigns.c.started_at)
    if town is not None:
        query = query.where(hotspot_campaigns.c.town_code == town)
    return [r._mapping for r in conn.execute(query)]


def start_campaign(conn: Connection, *, place: str, matter_type: str, town_code: str, responsible_unit: str,
                   review_on: date, note: str | None, by: str, now: datetime) -> None:
    """Put an area under targeted work, or change who answers for it and when it is reviewed; the work keeps
    the day it began, which its before/after comparison counts from."""
    c = hotspot_campaigns.c
    changes = {"responsible_unit": responsible_unit, "review_on": review_on, "note": note}
    updated = conn.execute(update(hotspot_campaigns).where(c.place == place, c.matter_type == matter_type)
                           .values(**changes)).rowcount
    if not updated:
        conn.execute(insert(hotspot_campaigns).values(place=place, matter_type=matter_type, town_code=town_code,
                                                      started_at=now, started_by=by, **changes))
