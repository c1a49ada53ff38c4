"""The 区·镇·村 cockpit (驾驶舱) over HTTP: district per town, town per village, a village's orders and repeats.

Scoped like every read: district roles see every town; a town role sees its own town and its
villages, and another town (or a village of another town) is as absent as a made-up code (404).
Every figure drills down to `GET /api/v1/orders?figure=…&from=…&to=…&town=…&village=…`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from starlette.responses import Response

from api import present
from api.access import allow, scope_town
from api.errors import ApiError
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.parameters import FromMonth, ToMonth, TownPath, VillagePath
from api.services import Services, services
from router.domain.cockpit import RATE_TERMS, UnitFigures, combined, trend
from router.domain.lifecycle import DISTRICT_ROLES
from router.domain.ranking import TownMonth
from router.store import cockpit
from router.store.statistics import FIRST_YEAR, LAST_YEAR, local_month
from router.store.views import UNPLACED
from schemas.api import (
    CockpitAgeBand,
    CockpitMap,
    CockpitMatterMonth,
    CockpitPlace,
    CockpitTrendPoint,
    CockpitUnit,
    CockpitView,
    MapArea,
    Problem,
)

router = APIRouter(prefix="/api/v1", tags=["驾驶舱 cockpit"])
_ERRORS = {401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}}
MAX_MONTHS = 36  # a period longer than three years is refused (422)

UNIT_COLUMNS = [("name", "单位"), ("received", "接警数"), ("diverted", "分流数"), ("rates.diverted", "分流率"),
                ("dispatched", "派单数"), ("rates.acknowledge_on_time", "签收及时率"),
                ("rates.report_on_time", "按时反馈率"), ("rates.resolution", "办结率"),
                ("rates.satisfaction", "满意率"), ("called_back", "回访数"), ("returned", "退单数"),
                ("reopened", "重办数"), ("breached", "超时工单"), ("escalated", "督办工单"),
                ("open_disputes", "在办重点纠纷")]
TREND_COLUMNS = [("month", "月份"), ("received", "接警数"), ("dispatched", "派单数"), ("closed", "办结数"),
                 ("breached", "超时工单"), ("rates.acknowledge_on_time", "签收及时率"),
                 ("rates.resolution", "办结率"), ("rates.satisfaction", "满意率"),
                 ("year_on_year.resolution", "办结率同比"), ("month_on_month.resolution", "办结率环比")]


def period(svc: Services, start: str | None, end: str | None) -> tuple[date, date, date]:
    """(first month, last month, this month) of a request: both default to this month."""
    this_month = local_month(svc.clock(), svc.zone)
    first, last = (_parse(text, this_month) for text in (start, end or start))
    if start is None and end is not None:
        first = last
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if not 1 <= months <= MAX_MONTHS:
        raise ApiError(422, "invalid_request", f"统计期间应为 1 至 {MAX_MONTHS} 个月，且起始月不晚于结束月",
                       f"period {first:%Y-%m}..{last:%Y-%m}")
    return first, last, this_month


def _parse(text: str | None, default: date) -> date:
    if text is None:
        return default
    year, month = int(text[:4]), int(text[5:])
    if not (FIRST_YEAR + 1 <= year <= LAST_YEAR and 1 <= month <= 12):
        raise ApiError(422, "invalid_request", "月份格式应为 YYYY-MM", f"month {text!r}")
    return date(year, month, 1)


def _unit(figures: UnitFigures, name: str) -> CockpitUnit:
    loop = {f: getattr(figures.loop, f) for f in cockpit.TOWN_MONTH_FACTS}
    return CockpitUnit(code=figures.code, name=name, **loop, called_back=figures.called_back,
                       satisfied=figures.satisfied, breached=figures.breached, escalated=figures.escalated,
                       received=figures.received, diverted=figures.diverted, open_disputes=figures.open_disputes,
                       rates=figures.rates())


def _units(found: dict[str, UnitFigures], codes: list[str]) -> list[UnitFigures]:
    return [found.get(code) or UnitFigures(TownMonth(code)) for code in codes]


def _trend(found: cockpit.ViewFigures, code: str) -> list[CockpitTrendPoint]:
    return [CockpitTrendPoint(month=f"{p.month:%Y-%m}", dispatched=p.figures.loop.dispatched,
                              received=p.figures.received, closed=p.figures.loop.closed,
                              breached=p.figures.breached, rates=p.figures.rates(),
                              year_on_year=p.year_on_year, month_on_month=p.month_on_month)
            for p in trend(found.trend_months, found.by_month, code)]


def _view(svc: Services, level: str, code: str, name: str, town: str | None, scope: cockpit.Scope,
          this_month: date, units: list[str], names: dict[str, str]) -> CockpitView:
    with svc.read() as conn:
        found = cockpit.view_figures(conn, scope, code, level, this_month, svc.clock())
    codes = units + sorted({c for c in found.period if c not in names}) if level == "town" else units
    label = {**names, UNPLACED: "未定位村社"}
    repeats = found.repeats or (None, None)
    return CockpitView(
        level=level, code=code, name=name, town_code=town, period_from=f"{scope.first:%Y-%m}",
        period_to=f"{scope.last:%Y-%m}", month=f"{this_month:%Y-%m}", terms=dict(RATE_TERMS),
        total=_unit(combined(code, list(found.period.values())), name),
        units=[] if level == "village" else [_unit(f, label.get(f.code, f.code)) for f in _units(found.period, codes)],
        month_units=[] if level == "village" else [_unit(f, label.get(f.code, f.code))
                                                    for f in _units(found.current, codes)],
        trend=_trend(found, code),
        open_orders=[CockpitAgeBand(**o, state_name=present.state_term(o["state"])) for o in found.open_orders],
        matters=[CockpitMatterMonth(**m) for m in found.matters], repeat_callers=repeats[0],
        repeat_caller_reports=repeats[1], repeat_places=[CockpitPlace(**p) for p in found.places])


def _answer(view: CockpitView, format: str, svc: Services) -> CockpitView | Response:
    if format != "csv":
        return view
    title = f"驾驶舱-{view.name}-{view.period_from}至{view.period_to}"
    if view.level == "village":
        return csv_response(title, TREND_COLUMNS, svc.zone, [p.model_dump() for p in view.trend])
    return csv_response(title, UNIT_COLUMNS, svc.zone, [u.model_dump() for u in (*view.units, view.total)])


@router.get("/cockpit/district", response_model=CockpitView, responses={**_ERRORS, 403: {"model": Problem},
            **CSV_RESPONSE}, summary="区级驾驶舱 The district cockpit: every town over a period, with a 12-month trend")
def district(who: Annotated[Principal, Depends(allow("cockpit.district", DISTRICT_ROLES))],
             svc: Annotated[Services, Depends(services)], start: FromMonth = None,
             end: ToMonth = None,
             format: Literal["json", "csv"] = "json") -> CockpitView | Response:
    first, last, this_month = period(svc, start, end)
    centre = svc.jurisdiction.district_centre
    # The district centre's own line: the dispatches charged to it (towns not onboarded, 区中心代管).
    units = [*(t.code for t in svc.jurisdiction.towns), centre.code]
    scope = cockpit.Scope(first, last, svc.zone, tuple(units))
    view = _view(svc, "district", centre.code, centre.name, None, scope, this_month, units,
                 {**{t.code: t.name for t in svc.jurisdiction.towns}, centre.code: centre.name})
    return _answer(view, format, svc)


@router.get("/cockpit/towns/{town}", response_model=CockpitView, responses={**_ERRORS, **CSV_RESPONSE},
            summary="镇级驾驶舱 A town's cockpit: each village (村社) over a period, open orders by age")
def town_view(town: TownPath, who: Annotated[Principal, Depends(allow("cockpit.town"))],
              svc: Annotated[Services, Depends(services)], start: FromMonth = None,
              end: ToMonth = None,
              format: Literal["json", "csv"] = "json") -> CockpitView | Response:
    code = _town(who, svc, town)
    first, last, this_month = period(svc, start, end)
    villages = _villages(svc, code)
    scope = cockpit.Scope(first, last, svc.zone, (code,))
    view = _view(svc, "town", code, svc.unit_name(code), code, scope, this_month, list(villages), villages)
    return _answer(view, format, svc)


@router.get("/cockpit/towns/{town}/villages/{village}", response_model=CockpitView,
            responses={**_ERRORS, **CSV_RESPONSE},
            summary="村级驾驶舱 A village's cockpit: its orders over time by matter type, repeat callers and places")
def village_view(town: TownPath, village: VillagePath,
                 who: Annotated[Principal, Depends(allow("cockpit.village"))],
                 svc: Annotated[Services, Depends(services)], start: FromMonth = None,
                 end: ToMonth = None,
                 format: Literal["json", "csv"] = "json") -> CockpitView | Response:
    code = _town(who, svc, town)
    villages = _villages(svc, code)
    if village != UNPLACED and village not in villages:
        raise ApiError(404, "not_found", "村社不存在或无权查看", f"village {village} is not in town {code}")
    first, last, this_month = period(svc, start, end)
    scope = cockpit.Scope(first, last, svc.zone, (code,), village)
    view = _view(svc, "village", village, villages.get(village, "未定位村社"), code, scope, this_month, [], {})
    return _answer(view, format, svc)


@router.get("/cockpit/map", response_model=CockpitMap, responses={401: {"model": Problem}},
            summary="驾驶舱地图 The towns' boundaries for the cockpit map (GeoJSON); empty without boundaries")
def town_map(who: Annotated[Principal, Depends(allow("cockpit.map"))],
             svc: Annotated[Services, Depends(services)]) -> CockpitMap:
    """The bundle's `boundaries.geojson` as the caller may see it: every town for district roles, a town
    role's own. Each town's rings make one Polygon (its first ring the outline, the others its holes)."""
    mine = scope_town(who, None)
    return CockpitMap(features=[
        MapArea(properties={"town_code": b.town_code, "name": svc.unit_name(b.town_code)},
                geometry={"type": "Polygon", "coordinates": [[list(point) for point in ring] for ring in b.rings]})
        for b in svc.jurisdiction.boundaries if mine in (None, b.town_code)])


def _town(who: Principal, svc: Services, town: str) -> str:
    code = scope_town(who, town)
    if code not in svc.jurisdiction.town_by_code:
        raise ApiError(404, "not_found", "镇街不存在或无权查看", f"no town {town}")
    return code


def _villages(svc: Services, town: str) -> dict[str, str]:
    """The town's villages and communities (村社), current and retired, by code, in gazetteer order."""
    return {v.code: v.name for v in svc.jurisdiction.villages if v.town_code == town}
