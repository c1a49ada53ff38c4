"""Incidents with the place each counts for: what high-incidence areas and the safety index read.

An incident that opened or joined an order is where the order is (its village, coordinates or
address); a police incident, which opens none, is where its routing decision placed it (the
village in its evidence) or where it was reported (its coordinates, then its address). Only the
address and location are read from the stored record, never the caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from router.domain.geo import to_wgs84
from router.domain.hotspots import place_key
from router.domain.incident import Datum, Point
from router.store.tables import incidents, work_orders


@dataclass(frozen=True, slots=True)
class PlacedIncident:
    incident_id: str
    at: datetime
    outcome: str  # police | work_order | review
    priority: str
    matter_type: str | None
    town_code: str | None
    village_code: str | None
    place: str | None
    order_id: str | None
    repeat: bool  # merged into an order another incident opened (并单): a repeat call


def placed_incidents(conn: Connection, since: datetime, until: datetime, town: str | None,
                     cell_metres: float) -> Iterator[PlacedIncident]:
    """The incidents received in [since, until), in `town` when given, oldest first."""
    i, o = incidents.c, work_orders.c
    query = (select(i.incident_id, i.received_at, i.outcome, i.matter_type, i.town_code, i.order_id, i.decision,
                    i.record["address"].label("address"), i.record["location"].label("location"),
                    o.village_code, o.lon, o.lat, o.address.label("order_address"),
                    o.incident_id.label("opener"))
             .outerjoin(work_orders, o.order_id == i.order_id)
             .where(i.received_at >= since, i.received_at < until)
             .order_by(i.received_at, i.incident_id))
    if town is not None:
        query = query.where(i.town_code == town)
    # Streamed in batches; set on the statement, since Connection.execution_options would change the
    # caller's connection for every later statement of its transaction (server-side cursors for UPDATEs).
    for r in conn.execute(query.execution_options(yield_per=2000)):
        decision = r.decision or {}
        if r.opener is not None:
            village, lon, lat, address = r.village_code, r.lon, r.lat, r.order_address
        else:
            village = next((e.get("code") for e in decision.get("evidence", ()) if e.get("kind") == "village"), None)
            lon = lat = None
            if isinstance(r.location, dict):
                lon, lat = to_wgs84(Point(r.location["lon"], r.location["lat"],
                                          Datum(r.location.get("datum", "WGS-84"))))
            address = r.address if isinstance(r.address, str) else None
        yield PlacedIncident(r.incident_id, r.received_at, r.outcome, decision.get("priority", "normal"),
                             r.matter_type, r.town_code, village, place_key(village, lon, lat, address, cell_metres),
                             r.order_id, r.opener is not None and r.opener != r.incident_id)
