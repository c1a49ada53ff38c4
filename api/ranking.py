"""The monthly 红黄黑榜 of towns over HTTP; a town role sees only its own town's line."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from api.access import allow
from api.errors import ApiError
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.services import Services, services
from router.domain.ranking import GRADE_TERMS, INDICATOR_TERMS
from router.store.statistics import monthly_ranking
from schemas.api import MonthlyRankingView, Problem, RankingLine

router = APIRouter(prefix="/api/v1", tags=["排名 ranking"])

RANKING_COLUMNS = [("rank", "名次"), ("town_name", "镇街"), ("grade_name", "榜单"), ("score", "得分"),
                   ("dispatched", "派单数"), *((f"rates.{i.value}", n) for i, n in INDICATOR_TERMS.items()),
                   ("trend_score", "得分同比")]


def _month(text: str | None, svc: Services) -> date:
    if text is None:
        now = svc.clock().astimezone(svc.jurisdiction.loop.calendar.timezone)
        return date(now.year, now.month, 1)
    try:
        year, month = (int(p) for p in text.split("-"))
        # Fengqiao's own era: the 同比 month a year earlier must exist in every time zone, and nothing
        # was routed before 2000 (a year-2 month overflowed converting local midnight to UTC).
        if not 2000 <= year <= 2100:
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError:
        raise ApiError(422, "invalid_request", "月份格式应为 YYYY-MM", f"month {text!r}") from None


@router.get("/rankings/monthly", response_model=MonthlyRankingView, responses={401: {"model": Problem},
            422: {"model": Problem}, **CSV_RESPONSE}, summary="红黄黑榜 The monthly ranking of towns, with 同比 trends")
def monthly(who: Annotated[Principal, Depends(allow("rankings.monthly"))],
            svc: Annotated[Services, Depends(services)],
            month: Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")] = None,
            format: Literal["json", "csv"] = "json") -> MonthlyRankingView | Response:
    first = _month(month, svc)
    with svc.read() as conn:
        ranking = monthly_ranking(conn, svc.jurisdiction, first)
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
        return csv_response(f"红黄黑榜-{view.month}", RANKING_COLUMNS, [x.model_dump() for x in lines])
    return view
