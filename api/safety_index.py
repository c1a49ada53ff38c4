"""The safety index (平安指数) of towns and villages for a month, with the components that move it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import Connection

from api.access import allow, scope_town
from api.identity import Principal
from api.parameters import MonthQuery, TownQuery
from api.ranking import month_asked
from api.services import Services, services
from router.domain.jurisdiction import Jurisdiction
from router.domain.safety_index import STRAIN_TERMS, SafetyIndex, UnitMonth
from router.store.safety import safety_month
from schemas.api import Problem
from schemas.monthly import SafetyLine, SafetyView

router = APIRouter(prefix="/api/v1", tags=["平安指数 safety index"])


def _line(code: str, town_code: str, facts: UnitMonth, index: SafetyIndex, jurisdiction: Jurisdiction,
          names: dict[str, str]) -> SafetyLine:
    counts = {k: v for k, v in asdict(facts).items() if isinstance(v, int) and k != "villages"}
    counts["incidents"] = facts.police + sum(facts.by_priority.values())
    return SafetyLine(unit_code=code, unit_name=names.get(code) or jurisdiction.unit_name(code),
                      town_code=town_code, index=index.index, band=index.band,
                      strains={k.value: round(v, 4) for k, v in index.strains.items()},
                      losses={k.value: round(v, 2) for k, v in index.losses.items()}, facts=counts)


def safety_view(conn: Connection, jurisdiction: Jurisdiction, zone: tzinfo, month: date,
                town: str | None) -> SafetyView:
    result = safety_month(conn, jurisdiction, month, zone, town)
    villages = {v.code: v for v in jurisdiction.villages}
    names = {code: v.name for code, v in villages.items()}
    towns = sorted((_line(c, c, f, i, jurisdiction, names) for c, (f, i) in result.towns.items()),
                   key=lambda x: (-x.index, x.unit_code))
    lines = sorted((_line(c, villages[c].town_code, f, i, jurisdiction, names)
                    for c, (f, i) in result.villages.items()), key=lambda x: (x.town_code, x.index, x.unit_code))
    return SafetyView(month=f"{month:%Y-%m}", components={k.value: n for k, n in STRAIN_TERMS.items()},
                      weights={k.value: w for k, w in jurisdiction.safety.weights.items()}, towns=towns, villages=lines)


@router.get("/safety-index", response_model=SafetyView,
            responses={401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}},
            summary="平安指数 Each town's and village's index for a month, with its components")
def monthly_safety(who: Annotated[Principal, Depends(allow("safety_index.read"))],
                   svc: Annotated[Services, Depends(services)],
                   month: MonthQuery = None,
                   town: TownQuery = None) -> SafetyView:
    first = month_asked(month, svc)
    with svc.read() as conn:
        return safety_view(conn, svc.jurisdiction, svc.zone, first, scope_town(who, town))
