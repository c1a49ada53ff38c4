"""Supervisors' views (监督): SLA warnings, breaches and escalations, figures by town, key disputes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from api import present
from api.access import allow, scope_town
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.parameters import TownQuery
from api.services import Services, services
from router.domain.lifecycle import ACTION_TERMS, DISTRICT_ROLES, FINISHED, OPEN, STATE_TERMS, State
from router.domain.sla import parse_effect_kind
from router.store import statistics, views
from router.store.corrections import corrections, misroute_counts
from schemas.api import (
    Alert,
    Dispute,
    Misroute,
    Problem,
    Reference,
    ReturnReason,
    Town,
    TownFigures,
)

router = APIRouter(prefix="/api/v1", tags=["监督 supervision"])
_ERRORS = {401: {"model": Problem}, 404: {"model": Problem}}

ALERT_COLUMNS = [("at", "时间"), ("order_id", "工单编号"), ("town_name", "镇街"), ("kind_name", "类型"),
                 ("matter_type", "事项类型"), ("summary", "简要情况")]
FIGURE_COLUMNS = [("town_name", "镇街"), ("orders", "工单总数"), ("open", "在办"), ("awaiting_ack", "待签收"),
                  ("overdue", "已超时"), ("closed", "办结"), ("breaches", "本月超时次数"),
                  ("escalations", "本月督办次数")]
MISROUTE_COLUMNS = [("month", "月份"), ("rule_id", "规则"), ("wrong_town", "派错镇街"), ("police", "属警务"),
                    ("total", "合计")]
DISPUTE_COLUMNS = [("order_id", "工单编号"), ("town_name", "镇街"), ("matter_type", "事项类型"),
                   ("reports", "报警次数"), ("responsible_leader", "包案领导"), ("responsible_unit", "责任单位"),
                   ("responsible_person", "责任人"), ("resolution_due", "化解期限"), ("state_name", "状态")]


@router.get("/misroutes", response_model=list[Misroute], responses={**_ERRORS, 403: {"model": Problem},
            422: {"model": Problem}, **CSV_RESPONSE},
            summary="误派统计 Misroutes per rule and month, from the loop's corrections (district roles)")
def list_misroutes(
    who: Annotated[Principal, Depends(allow("misroutes.list", DISTRICT_ROLES))],
    svc: Annotated[Services, Depends(services)],
    months: Annotated[int, Query(ge=1, le=24, description="This month and the ones before it.")] = 3,
    format: Literal["json", "csv"] = "json",
) -> list[Misroute] | Response:
    zone = svc.zone
    since, _ = statistics.month_bounds(statistics.months_back(statistics.local_month(svc.clock(), zone), months - 1),
                                       zone)
    misroutes = svc.jurisdiction.loop.lifecycle.misroutes if svc.jurisdiction.loop else {}
    with svc.read() as conn:
        counts = misroute_counts(corrections(conn, misroutes, since), zone)
    rows = [Misroute(month=c.month, rule_id=c.rule_id, wrong_town=c.wrong_town, police=c.police, total=c.total)
            for c in counts]
    if format == "csv":
        return csv_response("误派统计", MISROUTE_COLUMNS, svc.zone, [r.model_dump() for r in rows])
    return rows


def month_start(svc: Services, now: datetime) -> datetime:
    """The first instant of this month in the bundle's time zone."""
    zone = svc.zone
    start, _ = statistics.month_bounds(statistics.local_month(now, zone), zone)
    return start


@router.get("/alerts", response_model=list[Alert], responses={**_ERRORS, **CSV_RESPONSE},
            summary="预警/超时/督办 SLA warnings, breaches and escalations that fired, newest first")
def list_alerts(
    who: Annotated[Principal, Depends(allow("alerts.list"))],
    svc: Annotated[Services, Depends(services)],
    kind: Annotated[list[Literal["warning", "breach", "escalation"]], Query()] = [],  # noqa: B006
    town: TownQuery = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    format: Literal["json", "csv"] = "json",
) -> list[Alert] | Response:
    now = svc.clock()
    with svc.read() as conn:
        rows = views.alerts(conn, scope_town(who, town), kind, now - timedelta(days=days), limit)
        names = {} if who.sees_callers else views.caller_names(conn, (r["order_id"] for r in rows))
    alerts = []
    for r in rows:
        effect = parse_effect_kind(r["kind"])
        if effect is None:  # views.alerts selects effects only; a malformed kind is not an alert
            continue
        stage, sla_kind = effect
        alerts.append(Alert(order_id=r["order_id"], town_code=r["town_code"],
                            town_name=svc.unit_name(r["town_code"]), stage=stage.value, kind=sla_kind,
                            kind_name=present.kind_term(r["kind"]), at=r["at"], state=r["state"],
                            matter_type=r["matter_type"],
                            summary=present.text_for(who, r["summary"], names.get(r["order_id"], ()))))
    if format == "csv":
        return csv_response("预警督办", ALERT_COLUMNS, svc.zone, [a.model_dump() for a in alerts])
    return alerts


@router.get("/towns/figures", response_model=list[TownFigures], responses={**_ERRORS, **CSV_RESPONSE},
            summary="分镇街统计 Figures by town: open, awaiting 签收, overdue, this month's breaches")
def town_figures(
    who: Annotated[Principal, Depends(allow("towns.figures"))],
    svc: Annotated[Services, Depends(services)],
    format: Literal["json", "csv"] = "json",
) -> list[TownFigures] | Response:
    now = svc.clock()
    with svc.read() as conn:
        rows = views.town_figures(conn, who.town, now, month_start(svc, now))
    figures = [TownFigures(**{k: int(v or 0) for k, v in r.items() if k != "town_code"}, town_code=r["town_code"],
                           town_name=svc.unit_name(r["town_code"])) for r in rows]
    if format == "csv":
        return csv_response("分镇街统计", FIGURE_COLUMNS, svc.zone, [f.model_dump() for f in figures])
    return figures


@router.get("/disputes", response_model=list[Dispute], responses={**_ERRORS, **CSV_RESPONSE},
            summary="重点矛盾纠纷 Key disputes with their responsible people and deadlines")
def list_disputes(
    who: Annotated[Principal, Depends(allow("disputes.list"))],
    svc: Annotated[Services, Depends(services)],
    format: Literal["json", "csv"] = "json",
) -> list[Dispute] | Response:
    with svc.read() as conn:
        rows = views.disputes(conn, who.town)
        names = {} if who.sees_callers else views.caller_names(conn, (r["order_id"] for r in rows))
    disputes = [Dispute(**{**r, "summary": present.text_for(who, r["summary"], names.get(r["order_id"], ()))},
                        town_name=svc.unit_name(r["town_code"]), state_name=present.state_term(r["state"]))
                for r in rows]
    if format == "csv":
        return csv_response("重点矛盾纠纷", DISPUTE_COLUMNS, svc.zone, [d.model_dump() for d in disputes])
    return disputes


@router.get("/reference", response_model=Reference, responses=_ERRORS,
            summary="参考数据 Towns, return reasons, state and action names, open and finished states for forms")
def reference(who: Annotated[Principal, Depends(allow("reference.read"))],
              svc: Annotated[Services, Depends(services)]) -> Reference:
    j = svc.jurisdiction
    reasons = j.loop.lifecycle.return_reasons if j.loop else {}
    return Reference(
        towns=[Town(code=t.code, name=t.name, onboarded=t.onboarded) for t in j.towns],
        return_reasons=[ReturnReason(code=c, name=n) for c, n in sorted(reasons.items())],
        states={s.value: n for s, n in STATE_TERMS.items()},
        actions={a.value: n for a, n in ACTION_TERMS.items()},
        open_states=[s.value for s in State if s in OPEN],
        finished_states=[s.value for s in State if s in FINISHED],
    )
