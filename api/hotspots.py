"""High-incidence areas (高发区域) over HTTP, and the district putting one under targeted work (专项整治)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection

from api.access import allow, scope_town
from api.errors import ApiError
from api.identity import Principal
from api.parameters import TownQuery
from api.services import Services, services
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import Role
from router.store import hotspots
from schemas.api import Problem
from schemas.monthly import AreaIncident, Campaign, CampaignBody, HotspotArea, HotspotsView

router = APIRouter(prefix="/api/v1", tags=["高发区域 hotspots"])
_ERRORS = {401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}}
# Who leads district work: the supervisors and dispatchers of the district centre, and admins.
DISTRICT_LEADS = frozenset({Role.DISTRICT_SUPERVISOR, Role.DISTRICT_DISPATCHER, Role.ADMIN})


def place_name(place: str, jurisdiction: Jurisdiction) -> str:
    """A place key as people read it: the village's name, a coordinate cell, or the address."""
    kind, _, value = place.partition(":")
    if kind == "village":
        village = next((v for v in jurisdiction.villages if v.code == value), None)
        return village.name if village else value
    if kind == "cell":
        return f"坐标 {value} 附近"
    return value


def hotspots_view(conn: Connection, jurisdiction: Jurisdiction, now: datetime, town: str | None) -> HotspotsView:
    rules = jurisdiction.hotspots
    areas = []
    for a in hotspots.areas(conn, jurisdiction, now, town):
        h, c, e = a.hotspot, a.campaign, a.effect
        areas.append(HotspotArea(
            place=a.place, place_name=place_name(a.place, jurisdiction), matter_type=a.matter_type,
            town_code=a.town_code, town_name=jurisdiction.unit_name(a.town_code) if a.town_code else None,
            hotspot=h is not None, count=len(a.incidents), baseline=h.baseline if h else 0,
            expected=h.expected if h else None, p_value=h.p_value if h else None,
            incidents=[AreaIncident(incident_id=p.incident_id, at=p.at, outcome=p.outcome, order_id=p.order_id)
                       for p in a.incidents],
            orders=list(dict.fromkeys(p.order_id for p in a.incidents if p.order_id)),
            campaign=Campaign(responsible_unit=c["responsible_unit"], review_on=c["review_on"], note=c["note"],
                              started_at=c["started_at"], started_by=c["started_by"], days=round(e.days, 2),
                              before=e.before, after=e.after, fell=e.fell) if c is not None and e else None))
    return HotspotsView(window_days=rules.window_days, baseline_days=rules.baseline_days, min_count=rules.min_count,
                        p_value=rules.p_value, areas=areas)


@router.get("/hotspots", response_model=HotspotsView, responses=_ERRORS,
            summary="高发区域 High-incidence areas today, with their incidents, orders and targeted work")
def list_hotspots(who: Annotated[Principal, Depends(allow("hotspots.list"))],
                  svc: Annotated[Services, Depends(services)],
                  town: TownQuery = None) -> HotspotsView:
    with svc.read() as conn:
        return hotspots_view(conn, svc.jurisdiction, svc.clock(), scope_town(who, town))


@router.put("/hotspots/campaign", response_model=HotspotArea, responses={**_ERRORS, 422: {"model": Problem}},
            summary="专项整治 Put an area under targeted work with a responsible unit and a review date (district)")
def start_campaign(request: Request, body: CampaignBody,
                   who: Annotated[Principal, Depends(allow("hotspots.campaign", DISTRICT_LEADS))],
                   svc: Annotated[Services, Depends(services)]) -> HotspotArea:
    now = svc.clock()
    with svc.transaction() as conn:
        view = hotspots_view(conn, svc.jurisdiction, now, None)
        area = next((a for a in view.areas if (a.place, a.matter_type) == (body.place, body.matter_type)), None)
        if area is None or area.town_code is None:
            raise ApiError(404, "not_found", "该区域不是高发区域", f"no hotspot {body.place} {body.matter_type}")
        hotspots.start_campaign(conn, place=body.place, matter_type=body.matter_type, town_code=area.town_code,
                                responsible_unit=body.responsible_unit, review_on=body.review_on, note=body.note,
                                by=who.user_id, now=now)
        request.state.audit_detail = f"campaign {body.matter_type} in {area.town_code}: {body.responsible_unit}"
        marked = hotspots_view(conn, svc.jurisdiction, now, None)
    return next(a for a in marked.areas if (a.place, a.matter_type) == (body.place, body.matter_type))
