"""The monthly key-dispute list (重点矛盾纠纷清单): which disputes a month's list carries, and its figures.

A month's list holds every key dispute flagged before the month ends that was not already
resolved (化解: its order closed) before the month began; one still unresolved at the month's
end is carried over (结转) to the next list, its assignments with it. The figures read like
the district's own: issued (下发), resolved (化解), the rate, per town and in total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ListedDispute:
    order_id: str
    town_code: str
    resolved_at: datetime | None  # when its order closed, if it is closed now


def belongs(flagged_at: datetime, resolved_at: datetime | None, start: datetime, end: datetime) -> bool:
    """Whether a dispute goes on the list of the month [start, end)."""
    return flagged_at < end and (resolved_at is None or resolved_at >= start)


def resolved_in(dispute: ListedDispute, end: datetime) -> bool:
    return dispute.resolved_at is not None and dispute.resolved_at < end


@dataclass(frozen=True, slots=True)
class Figures:
    issued: int
    resolved: int

    @property
    def rate(self) -> float | None:
        return None if self.issued == 0 else self.resolved / self.issued


def figures(disputes: Iterable[ListedDispute], end: datetime) -> tuple[dict[str, Figures], Figures]:
    """Per town (sorted by code) and in total, for a month ending at `end`."""
    issued: dict[str, int] = {}
    resolved: dict[str, int] = {}
    for d in disputes:
        issued[d.town_code] = issued.get(d.town_code, 0) + 1
        resolved[d.town_code] = resolved.get(d.town_code, 0) + resolved_in(d, end)
    towns = {t: Figures(issued[t], resolved[t]) for t in sorted(issued)}
    return towns, Figures(sum(issued.values()), sum(resolved.values()))
