"""The monthly key-dispute list (重点矛盾纠纷清单): the district issues and assigns it; towns see their own."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection

from api import present
from api.access import allow, scope_town
from api.errors import ApiError
from api.hotspots import DISTRICT_LEADS
from api.identity import Principal
from api.parameters import MonthPath, TownQuery
from api.ranking import month_asked
from api.services import Services, services
from router.domain.dispute_list import figures, resolved_in
from router.domain.jurisdiction import Jurisdiction
from router.domain.privacy import mask_text
from router.store import dispute_lists, views
from router.store.statistics import month_bounds
from schemas.api import Problem
from schemas.monthly import DisputeAssignment, DisputeFiguresView, DisputeListView, IssueResult, ListedDisputeView

router = APIRouter(prefix="/api/v1", tags=["重点矛盾纠纷 key disputes"])
_ERRORS = {401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}}


def dispute_list_view(conn: Connection, jurisdiction: Jurisdiction, zone: tzinfo, month: date, now: datetime,
                      town: str | None, who: Principal | None) -> DisputeListView:
    """The month's list; summaries as `who` may read them (masked when None: a report to send on)."""
    _, end = month_bounds(month, zone)
    found = dispute_lists.listing(conn, month, town)
    names = {} if who and who.sees_callers else views.caller_names(conn, (r["order_id"] for r in found.rows))
    disputes = []
    for r, d in zip(found.rows, found.disputes(), strict=True):
        resolved = resolved_in(d, end)
        disputes.append(ListedDisputeView(
            order_id=r["order_id"], town_code=r["town_code"], town_name=jurisdiction.unit_name(r["town_code"]),
            matter_type=r["matter_type"], reports=r["reports"], carried_over=r["carried_over"],
            responsible_leader=r["responsible_leader"], responsible_unit=r["responsible_unit"],
            responsible_person=r["responsible_person"], resolution_due=r["resolution_due"],
            overdue=not resolved and r["resolution_due"] < min(now, end), resolved=resolved,
            resolved_at=r["resolved_at"], state_name=present.state_term(r["state"]),
            summary=r["summary"] if who and who.sees_callers
            else mask_text(r["summary"], names.get(r["order_id"], ()))))
    towns, total = figures(found.disputes(), end)
    lines = [DisputeFiguresView(town_code=c, town_name=jurisdiction.unit_name(c), issued=f.issued,
                                resolved=f.resolved, rate=f.rate) for c, f in towns.items()]
    lines.append(DisputeFiguresView(town_code=None, town_name="合计", issued=total.issued, resolved=total.resolved,
                                    rate=total.rate))
    return DisputeListView(month=f"{month:%Y-%m}", issued=found.issued, disputes=disputes, figures=lines)


@router.get("/dispute-lists/{month}", response_model=DisputeListView, responses=_ERRORS,
            summary="重点矛盾纠纷清单 The month's key-dispute list with progress and figures (towns: their own)")
def read_list(who: Annotated[Principal, Depends(allow("dispute_lists.read"))],
              svc: Annotated[Services, Depends(services)], month: MonthPath,
              town: TownQuery = None) -> DisputeListView:
    first = month_asked(month, svc)
    with svc.read() as conn:
        return dispute_list_view(conn, svc.jurisdiction, svc.zone, first, svc.clock(), scope_town(who, town), who)


@router.post("/dispute-lists/{month}", response_model=IssueResult, responses=_ERRORS,
             summary="下发清单 Issue (or top up) the month's list; unresolved disputes carry over (district)")
def issue_list(request: Request, who: Annotated[Principal, Depends(allow("dispute_lists.issue", DISTRICT_LEADS))],
               svc: Annotated[Services, Depends(services)], month: MonthPath) -> IssueResult:
    first = month_asked(month, svc)
    with svc.transaction() as conn:
        added = dispute_lists.issue(conn, first, svc.zone, who.user_id, svc.clock())
    request.state.audit_detail = f"dispute list {month}: {added} added"
    return IssueResult(month=month, added=added)


@router.put("/dispute-lists/{month}/{order_id}", response_model=ListedDisputeView, responses=_ERRORS,
            summary="包案 Assign a listed dispute's leader, unit, person and deadline (district)")
def assign(request: Request, body: DisputeAssignment,
           who: Annotated[Principal, Depends(allow("dispute_lists.assign", DISTRICT_LEADS))],
           svc: Annotated[Services, Depends(services)], month: MonthPath,
           order_id: Annotated[str, Path(min_length=1, max_length=32)]) -> ListedDisputeView:
    first = month_asked(month, svc)
    with svc.transaction() as conn:
        try:
            dispute_lists.assign(conn, first, order_id, body.model_dump())
        except dispute_lists.NotListed:
            raise ApiError(404, "not_found", "该纠纷不在本月清单中", f"{order_id} not on the {month} list") from None
        view = dispute_list_view(conn, svc.jurisdiction, svc.zone, first, svc.clock(), None, who)
    request.state.audit_detail = f"dispute {order_id} on {month}: {body.responsible_unit}"
    return next(d for d in view.disputes if d.order_id == order_id)
