"""The 区·镇·村 cockpit's figures (驾驶舱): a unit's loop facts over a period, its rates, and their change.

A unit is a town (镇街) or a village/community (村社) within one. Its loop facts are the 红黄黑榜's
(`TownMonth`, counted per dispatch 派单 by router.store.statistics) plus the cockpit's own: incidents
received and diverted, 回访 callbacks and satisfied ones, dispatches with a breach or an escalation,
and the key disputes open now. Definitions for people: docs/cockpit.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from router.domain.ranking import Indicator, TownMonth, ratio

SATISFACTION = "satisfaction"  # 满意率: satisfied callbacks / dispatches called back
DIVERTED = "diverted"  # 分流率: incidents that opened or joined a work order / incidents received
RATE_NAMES = (*(i.value for i in Indicator), SATISFACTION, DIVERTED)

RATE_TERMS = {"acknowledge_on_time": "签收及时率", "report_on_time": "按时反馈率", "resolution": "办结率",
              "returns": "退单率", "reopens": "重办率", SATISFACTION: "满意率", DIVERTED: "分流率"}


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One unit's counts over a period; `loop` carries the dispatch facts under the unit's code."""

    loop: TownMonth
    received: int = 0  # 接警: incidents received in the period and placed in the unit
    diverted: int = 0  # ... of which opened or joined a work order (非警务分流)
    called_back: int = 0  # dispatches with a 回访
    satisfied: int = 0  # ... whose callback closed the order (满意)
    breached: int = 0  # dispatches with at least one breach (超时) charged to the unit
    escalated: int = 0  # dispatches with at least one escalation (催办/督办/通报) charged to the unit
    open_disputes: int = 0  # 重点矛盾纠纷 whose order is open now (not a period figure)

    def __post_init__(self) -> None:
        if self.diverted > self.received or self.satisfied > self.called_back:
            raise ValueError(f"{self.loop.town_code}: a part exceeds its whole in {self}")
        if self.called_back > self.loop.dispatched or max(self.breached, self.escalated) > self.loop.dispatched:
            raise ValueError(f"{self.loop.town_code}: more dispatches counted than dispatched in {self}")

    @property
    def code(self) -> str:
        return self.loop.town_code

    def rates(self) -> dict[str, float | None]:
        """Every rate as a fraction in [0, 1], None when its denominator is zero."""
        rates: dict[str, float | None] = {i.value: r for i, r in self.loop.rates().items()}
        rates[SATISFACTION] = ratio(self.satisfied, self.called_back)
        rates[DIVERTED] = ratio(self.diverted, self.received)
        return rates


def change(now: dict[str, float | None], then: dict[str, float | None]) -> dict[str, float | None]:
    """Each rate's change (now minus then, in fractions), None where either side has nothing to measure."""
    return {name: None if now.get(name) is None or then.get(name) is None else round(now[name] - then[name], 6)
            for name in now}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One month of a unit's trend, with 同比 (against the same month a year earlier) and 环比 (the month before)."""

    month: date
    figures: UnitFigures
    year_on_year: dict[str, float | None] = field(default_factory=dict)
    month_on_month: dict[str, float | None] = field(default_factory=dict)


def trend(months: list[date], by_month: dict[date, UnitFigures], code: str) -> list[TrendPoint]:
    """The last twelve of `months` (oldest first, 24 expected) as points, each compared a year and a month back."""
    def at(month: date) -> UnitFigures:
        return by_month.get(month) or UnitFigures(TownMonth(code))

    points = []
    for index in range(max(len(months) - 12, 0), len(months)):
        month, figures = months[index], at(months[index])
        rates = figures.rates()
        year_ago = date(month.year - 1, month.month, 1)
        yoy = change(rates, at(year_ago).rates()) if year_ago in by_month or year_ago in months else {}
        mom = change(rates, at(months[index - 1]).rates()) if index > 0 else {}
        points.append(TrendPoint(month, figures, yoy, mom))
    return points


def combined(code: str, parts: list[UnitFigures]) -> UnitFigures:
    """The figures of a unit made of `parts` (a district of towns, a town of villages): counts add up."""
    loop = {f.name: sum(getattr(p.loop, f.name) for p in parts) for f in fields(TownMonth) if f.name != "town_code"}
    extra = {f.name: sum(getattr(p, f.name) for p in parts) for f in fields(UnitFigures) if f.name != "loop"}
    return UnitFigures(TownMonth(code, **loop), **extra)
