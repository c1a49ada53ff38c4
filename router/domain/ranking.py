"""The monthly 红黄黑榜: towns scored on five loop indicators, ranked, graded, and compared a year back.

`rank(months, rules)` is total: any list of `TownMonth` facts gives one `TownRanking` per town.
A town with fewer than `rules.min_orders` dispatches is listed but not graded (不评): no rank.
`compare(current, earlier)` gives each town's change against the same month a year earlier.
What the facts count, and how the store counts them, is in `router.store.statistics`; the
formula and the grades are explained for people in docs/ranking.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from types import MappingProxyType


class Indicator(StrEnum):
    ACKNOWLEDGE_ON_TIME = "acknowledge_on_time"  # 签收及时率
    REPORT_ON_TIME = "report_on_time"  # 反馈及时率
    RESOLUTION = "resolution"  # 办结率
    RETURNS = "returns"  # 退单率, lower is better
    REOPENS = "reopens"  # 重办率, lower is better


INDICATOR_TERMS: Mapping[Indicator, str] = MappingProxyType({
    Indicator.ACKNOWLEDGE_ON_TIME: "签收及时率",
    Indicator.REPORT_ON_TIME: "反馈及时率",
    Indicator.RESOLUTION: "办结率",
    Indicator.RETURNS: "退单率",
    Indicator.REOPENS: "重办率",
})

LOWER_IS_BETTER: frozenset[Indicator] = frozenset({Indicator.RETURNS, Indicator.REOPENS})


class Grade(StrEnum):
    RED = "red"  # 红榜: commended
    YELLOW = "yellow"  # 黄榜: between the two thresholds
    BLACK = "black"  # 黑榜: named for poor performance
    UNGRADED = "ungraded"  # 不评: too few orders to judge


GRADE_TERMS: Mapping[Grade, str] = MappingProxyType({
    Grade.RED: "红榜", Grade.YELLOW: "黄榜", Grade.BLACK: "黑榜", Grade.UNGRADED: "不评",
})


@dataclass(frozen=True, slots=True)
class TownMonth:
    """One town's month of dispatches (派单) and what became of them; counts, not rates.

    Each count after `dispatched` is a subset of the one its rate divides by (see `rates`), so
    an impossible combination (more on time than acknowledged, say) raises ValueError: a bug
    in whoever counted.
    """

    town_code: str
    dispatched: int = 0  # 派单: orders given to the town (opened for it, or reassigned/transferred to it)
    acknowledged: int = 0  # 签收 while the town held them
    acknowledged_on_time: int = 0  # ... before the acknowledge deadline's breach
    reported: int = 0  # 反馈 at least once
    reported_on_time: int = 0  # ... with no report breach while the town held it
    closed: int = 0  # 办结 (report approved)
    returned: int = 0  # 退单 requested by the town
    reopened: int = 0  # 重办: a report rejected, or an unsatisfied callback
    # Settled: the stage was done, or its deadline passed (its breach fired). A rate counts an order
    # only once it is settled, so an order not yet due is neither on time nor late.
    acknowledge_settled: int = 0  # dispatches acknowledged, or whose 签收 deadline passed
    report_settled: int = 0  # acknowledged dispatches reported, or whose 反馈 deadline passed
    resolve_settled: int = 0  # acknowledged dispatches closed, or whose 办结 deadline passed

    def __post_init__(self) -> None:
        counts = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "town_code"}
        if any(value < 0 for value in counts.values()):
            raise ValueError(f"{self.town_code}: negative count in {counts}")
        subsets = (("acknowledged", "dispatched"), ("acknowledged_on_time", "acknowledged"),
                   ("reported", "acknowledged"), ("reported_on_time", "reported"), ("closed", "reported"),
                   ("returned", "dispatched"), ("reopened", "reported"),
                   ("acknowledged", "acknowledge_settled"), ("acknowledge_settled", "dispatched"),
                   ("reported", "report_settled"), ("report_settled", "acknowledged"),
                   ("closed", "resolve_settled"), ("resolve_settled", "acknowledged"))
        for part, whole in subsets:
            if counts[part] > counts[whole]:
                raise ValueError(f"{self.town_code}: {part} {counts[part]} exceeds {whole} {counts[whole]}")

    def rates(self) -> dict[Indicator, float | None]:
        """Each indicator as a fraction in [0, 1]; None when its denominator is zero (nothing to measure)."""
        return {
            Indicator.ACKNOWLEDGE_ON_TIME: ratio(self.acknowledged_on_time, self.acknowledge_settled),
            Indicator.REPORT_ON_TIME: ratio(self.reported_on_time, self.report_settled),
            Indicator.RESOLUTION: ratio(self.closed, self.resolve_settled),
            Indicator.RETURNS: ratio(self.returned, self.dispatched),
            Indicator.REOPENS: ratio(self.reopened, self.reported),
        }


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class RankingRules:
    """How the 红黄黑榜 is drawn, from the bundle's `[ranking]` section.

    `weights` has every indicator (any non-negative scale, not all zero). A graded town's score
    is at least `red_min_score` for 红榜, below `black_below_score` for 黑榜, else 黄榜.
    """

    weights: Mapping[Indicator, float]
    red_min_score: float
    black_below_score: float
    min_orders: int

    def __post_init__(self) -> None:
        if set(self.weights) != set(Indicator):
            raise ValueError(f"weights need exactly {sorted(Indicator)}, got {sorted(self.weights)}")
        if any(w < 0 for w in self.weights.values()) or not sum(self.weights.values()):
            raise ValueError("weights must be non-negative and not all zero")
        if not 0 <= self.black_below_score <= self.red_min_score <= 100:
            raise ValueError("needs 0 <= black_below_score <= red_min_score <= 100")
        if self.min_orders < 1:
            raise ValueError("min_orders must be at least 1")
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))


@dataclass(frozen=True, slots=True)
class TownRanking:
    """A town's line on the list: its facts, rates, score (0–100, None without orders), rank and grade."""

    month: TownMonth
    rates: Mapping[Indicator, float | None]
    score: float | None
    rank: int | None  # 1 is best; equal scores share a rank; None when ungraded
    grade: Grade

    @property
    def town_code(self) -> str:
        return self.month.town_code


def score(rates: Mapping[Indicator, float | None], weights: Mapping[Indicator, float]) -> float | None:
    """The weighted mean of the indicators' points on a 0–100 scale, rounded to 2 decimals.

    An indicator earns its rate in points, or 1 − rate when lower is better; one with nothing to
    measure earns none (a town that reported nothing gains nothing for a low 重办率). None
    when no indicator can be measured. Rounding first makes equal-looking scores tie.
    """
    if all(rate is None for rate in rates.values()):
        return None
    earned = sum(weights[i] * _points(i, rate) for i, rate in rates.items() if rate is not None)
    return round(100 * earned / sum(weights.values()), 2)


def _points(indicator: Indicator, rate: float) -> float:
    return 1 - rate if indicator in LOWER_IS_BETTER else rate


def grade_of(value: float, rules: RankingRules) -> Grade:
    """The grade of a score, for a town with enough orders to be graded."""
    if value >= rules.red_min_score:
        return Grade.RED
    if value < rules.black_below_score:
        return Grade.BLACK
    return Grade.YELLOW


def rank(months: Iterable[TownMonth], rules: RankingRules) -> list[TownRanking]:
    """Every town's line: graded towns best first (equal scores share a rank, "1, 2, 2, 4"), then
    the ungraded; within equal scores and among the ungraded, by town code."""
    lines = []
    for month in months:
        rates = month.rates()
        lines.append((month, rates, score(rates, rules.weights)))
    graded = sorted(((m, r, s) for m, r, s in lines if m.dispatched >= rules.min_orders and s is not None),
                    key=lambda line: (-line[2], line[0].town_code))
    ungraded = sorted(((m, r, s) for m, r, s in lines if m.dispatched < rules.min_orders or s is None),
                      key=lambda line: line[0].town_code)
    ranked: list[TownRanking] = []
    for position, (month, rates, value) in enumerate(graded, start=1):
        shared = ranked[-1].rank if ranked and ranked[-1].score == value else position
        ranked.append(TownRanking(month, MappingProxyType(rates), value, shared, grade_of(value, rules)))
    ranked.extend(TownRanking(m, MappingProxyType(r), s, None, Grade.UNGRADED) for m, r, s in ungraded)
    return ranked


@dataclass(frozen=True, slots=True)
class Trend:
    """同比: a town's change against the same month a year earlier (now minus then).

    Rate deltas are in fractions (0.05 is five percentage points); a delta is None when either
    month has nothing to measure, or the town is missing from the earlier list.
    """

    town_code: str
    rates: Mapping[Indicator, float | None]
    score: float | None


def compare(current: Sequence[TownRanking], earlier: Sequence[TownRanking]) -> dict[str, Trend]:
    """Each current town's trend against `earlier` (the same month a year before), by town code."""
    before = {line.town_code: line for line in earlier}
    trends = {}
    for line in current:
        then = before.get(line.town_code)
        rates = {i: _delta(rate, then.rates.get(i) if then else None) for i, rate in line.rates.items()}
        trends[line.town_code] = Trend(line.town_code, MappingProxyType(rates),
                                       _delta(line.score, then.score if then else None, digits=2))
    return trends


def _delta(now: float | None, then: float | None, digits: int = 6) -> float | None:
    return None if now is None or then is None else round(now - then, digits)


def a_year_earlier(month: date) -> date:
    """The first day of the same month one year earlier (the 同比 month)."""
    return date(month.year - 1, month.month, 1)


@dataclass(frozen=True, slots=True)
class MonthlyRanking:
    """The month's list (first day of the month) and each town's 同比 trend, by town code."""

    month: date
    lines: tuple[TownRanking, ...]
    trends: Mapping[str, Trend]


def draw(month: date, current: Iterable[TownMonth], earlier: Iterable[TownMonth],
         rules: RankingRules) -> MonthlyRanking:
    """The 红黄黑榜 of `month` from its facts, with trends against `earlier` (a year before)."""
    lines = rank(current, rules)
    return MonthlyRanking(date(month.year, month.month, 1), tuple(lines),
                          MappingProxyType(compare(lines, rank(earlier, rules))))
