"""The safety index (平安指数) of a village or town for one month: 100 less weighted strains.

index = 100 − Σ_k w_k · s_k / Σ_k w_k × 100, each strain s_k in [0, 1]:

- incidents: severity points (each incident's priority weight, police incidents their own weight)
  over the unit's `incident_ceiling` points, capped at 1;
- repeats: repeat calls (an incident merged into an order already open, 并单) over `repeat_ceiling`;
- disputes: key disputes (重点矛盾纠纷) flagged in the month over `dispute_ceiling`;
- unresolved: 1 − closed / orders opened in the month (0 when none opened);
- dissatisfied: unsatisfied callbacks (回访) over callbacks (0 when none);
- reopens: orders reopened (重办) over orders opened (capped at 1).

A town's ceilings are the village ceilings times its number of villages. Bands name the index
(平安, 基本平安, 欠平安). docs/safety_index.md explains the choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Strain(StrEnum):
    INCIDENTS = "incidents"
    REPEATS = "repeats"
    DISPUTES = "disputes"
    UNRESOLVED = "unresolved"
    DISSATISFIED = "dissatisfied"
    REOPENS = "reopens"


STRAIN_TERMS: Mapping[Strain, str] = MappingProxyType({
    Strain.INCIDENTS: "警情事件", Strain.REPEATS: "重复报警", Strain.DISPUTES: "重点矛盾纠纷",
    Strain.UNRESOLVED: "未办结", Strain.DISSATISFIED: "回访不满意", Strain.REOPENS: "重办",
})


@dataclass(frozen=True, slots=True)
class Band:
    min_index: float
    name: str


@dataclass(frozen=True, slots=True)
class SafetyRules:
    """`[safety_index]` in bundle.toml."""

    weights: Mapping[Strain, float] = field(default_factory=lambda: MappingProxyType({
        Strain.INCIDENTS: 30, Strain.REPEATS: 15, Strain.DISPUTES: 15, Strain.UNRESOLVED: 15,
        Strain.DISSATISFIED: 15, Strain.REOPENS: 10}))
    priority_points: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({
        "urgent": 3, "high": 2, "normal": 1, "low": 0.5}))
    police_points: float = 2
    incident_ceiling: float = 20  # a village's severity points in a month at which the strain is full
    repeat_ceiling: float = 5
    dispute_ceiling: float = 2
    bands: Sequence[Band] = (Band(90, "平安"), Band(75, "基本平安"), Band(0, "欠平安"))


@dataclass(frozen=True, slots=True)
class UnitMonth:
    """What happened in one village or town in one month; counts from the engine's records."""

    unit_code: str
    villages: int = 1  # villages it spans: 1 for a village, the town's count for a town
    police: int = 0
    by_priority: Mapping[str, int] = field(default_factory=dict)  # non-police incidents per priority
    repeats: int = 0
    disputes: int = 0
    opened: int = 0
    closed: int = 0
    reopened: int = 0
    callbacks: int = 0
    unsatisfied: int = 0


@dataclass(frozen=True, slots=True)
class SafetyIndex:
    unit_code: str
    index: float
    band: str
    strains: Mapping[Strain, float]  # each in [0, 1]
    losses: Mapping[Strain, float]  # points each strain took off the 100


def score(month: UnitMonth, rules: SafetyRules) -> SafetyIndex:
    scale = max(month.villages, 1)
    points = month.police * rules.police_points + sum(
        n * rules.priority_points.get(p, 1) for p, n in month.by_priority.items())
    strains = {
        Strain.INCIDENTS: _ratio(points, rules.incident_ceiling * scale),
        Strain.REPEATS: _ratio(month.repeats, rules.repeat_ceiling * scale),
        Strain.DISPUTES: _ratio(month.disputes, rules.dispute_ceiling * scale),
        Strain.UNRESOLVED: 1 - _ratio(month.closed, month.opened) if month.opened else 0.0,
        Strain.DISSATISFIED: _ratio(month.unsatisfied, month.callbacks),
        Strain.REOPENS: _ratio(month.reopened, month.opened),
    }
    total = sum(rules.weights.values())
    losses = {k: rules.weights.get(k, 0) * s / total * 100 for k, s in strains.items()}
    index = round(100 - sum(losses.values()), 1)
    band = next((b.name for b in sorted(rules.bands, key=lambda b: -b.min_index) if index >= b.min_index),
                rules.bands[-1].name)
    return SafetyIndex(month.unit_code, index, band, MappingProxyType(strains), MappingProxyType(losses))


def _ratio(part: float, whole: float) -> float:
    return 0.0 if whole <= 0 else min(part / whole, 1.0)
