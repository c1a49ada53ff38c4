"""The monthly 红黄黑榜 of towns over HTTP; a town role sees only its own town's line."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.access import allow
from api.errors import ApiError
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.parameters import MonthQuery
from api.services import Services, services
from router.domain.ranking import GRADE_TERMS, INDICATOR_TERMS
from router.store.statistics import FIRST_YEAR, LAST_YEAR, MonthOutOfRange, local_month, monthly_ranking
from schemas.api import MonthlyRankingView, Problem, RankingLine

router = APIRouter(prefix="/api/v1", tags=["排名 ranking"])

RANKING_COLUMNS = [("rank", "名次"), ("town_name", "镇街"), ("grade_name", "榜单"), ("score", "得分"),
                   ("dispatched", "派单数"), *((f"rates.{i.value}", n) for i, n in INDICATOR_TERMS.items()),
                   ("trend_score", "得分同比")]


def _bad_month(text: str | None) -> ApiError:
    return ApiError(422, "invalid_request", "月份格式应为 YYYY-MM", f"month {text!r}")


def month_asked(text: str | None, svc: Services) -> date:
    """The month a `month=YYYY-MM` query names (this month when none): 422 for a month that is none."""
    if text is None:
        return local_month(svc.clock(), svc.zone)
    try:
        year, month = (int(p) for p in text.split("-"))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError:
        raise _bad_month(text) from None


@router.get("/rankings/monthly", response_model=MonthlyRankingView, responses={401: {"model": Problem},
            422: {"model": Problem}, **CSV_RESPONSE}, summary="红黄黑榜 The monthly ranking of towns, with 同比 trends")
def monthly(who: Annotated[Principal, Depends(allow("rankings.monthly"))],
            svc: Annotated[Services, Depends(services)],
            month: MonthQuery = None,
            format: Literal["json", "csv"] = "json") -> MonthlyRankingView | Response:
    first = month_asked(month, svc)
    with svc.read() as conn:
        try:
            ranking = monthly_ranking(conn, svc.jurisdiction, first)
        except MonthOutOfRange:
            raise _bad_month(month) from None
    lines = []
    for line in ranking.lines:
        if who.town not in (None, line.town_code):
            continue
        trend = ranking.trends.get(line.town_code)
        facts = {k: v for k, v in asdict(line.month).items() if k != "town_code"}
        lines.append(RankingLine(
            town_code=line.town_code, town_name=svc.unit_name(line.town_code), rank=line.rank,
            grade=line.grade.value, grade_name=GRADE_TERMS[line.grade], score=line.score, **facts,
            rates={i.value: r for i, r in line.rates.items()},
            trend_rates={i.value: r for i, r in trend.rates.items()} if trend else {},
            trend_score=trend.score if trend else None))
    view = MonthlyRankingView(month=first.strftime("%Y-%m"),
                              indicators={i.value: n for i, n in INDICATOR_TERMS.items()},
                              weights={i.value: w for i, w in svc.jurisdiction.ranking.weights.items()}, lines=lines)
    if format == "csv":
        return csv_response(f"红黄黑榜-{view.month}", RANKING_COLUMNS, svc.zone, [x.model_dump() for x in lines])
    return view
