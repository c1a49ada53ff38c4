"""Evaluation (评估): a rule set's judgement scored on labelled cases, as `fengqiao eval` prints it.

The figures a district reads before switching a bundle on: police recall (crimes kept with the
police), non-police diverted, and of the diverted the right town, a wrong town, or a town forced
on a case whose place is unknown. Worst cases come first by harm: a crime sent to a town, then
a wrong or forced town, then a citizen matter left with the police.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from router.domain.incident import Incident
from router.domain.routing import Decision, Outcome, Router
from schemas.case import LabelledCaseV1

POLICE_COLUMN = "警务"  # the confusion table's column for cases kept with the police
_NO_TYPE = "—"

# Harm of a wrong decision, worst first (see the module docstring).
CRIME_DIVERTED, WRONG_TOWN = "crime_diverted", "wrong_town"
FORCED_TOWN, KEPT_AS_POLICE = "forced_town", "kept_as_police"
HARMS = (CRIME_DIVERTED, WRONG_TOWN, FORCED_TOWN, KEPT_AS_POLICE)

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # cases carry no time and the verdict does not depend on one


def case_incident(case: LabelledCaseV1) -> Incident:
    """The incident a case stands for, as the feed would have sent it."""
    return Incident(incident_id=case.case_id, received_at=_EPOCH, channel="other", summary=case.summary,
                    address=case.address, category_code=case.category_code, category_name=case.category_name,
                    town_code=case.town_code)


def harm(case: LabelledCaseV1, decision: Decision) -> str | None:
    """What went wrong with this decision, or None when it is right (review of a known town is not wrong)."""
    if case.expect_class == "police":
        if decision.outcome is not Outcome.POLICE:
            return CRIME_DIVERTED
        return None
    if decision.outcome is Outcome.POLICE:
        return KEPT_AS_POLICE
    if decision.outcome is Outcome.WORK_ORDER:
        if case.expect_town_code is None:
            return FORCED_TOWN
        if decision.town_code != case.expect_town_code:
            return WRONG_TOWN
    return None


@dataclass
class Tally:
    """Counts for one group of cases (all of them, one source, one label)."""

    cases: int = 0
    police: int = 0
    police_kept: int = 0
    non_police: int = 0
    diverted: int = 0
    with_town: int = 0  # non-police cases whose town is known
    right_town: int = 0
    wrong_town: int = 0
    to_review: int = 0  # non-police cases with a known town that went to review instead
    without_town: int = 0  # cases whose place is unknown or masked
    forced_town: int = 0  # ... that were placed in a town all the same

    def add(self, case: LabelledCaseV1, decision: Decision) -> None:
        self.cases += 1
        placed = decision.outcome is Outcome.WORK_ORDER
        if case.expect_town_code is None:
            self.without_town += 1
            self.forced_town += placed
        if case.expect_class == "police":
            self.police += 1
            self.police_kept += decision.outcome is Outcome.POLICE
            return
        self.non_police += 1
        self.diverted += decision.outcome is not Outcome.POLICE
        if case.expect_town_code is not None:
            self.with_town += 1
            self.right_town += placed and decision.town_code == case.expect_town_code
            self.wrong_town += placed and decision.town_code != case.expect_town_code
            self.to_review += decision.outcome is Outcome.REVIEW

    @property
    def police_recall(self) -> float | None:
        return _share(self.police_kept, self.police)

    @property
    def diverted_share(self) -> float | None:
        return _share(self.diverted, self.non_police)

    @property
    def right_town_share(self) -> float | None:
        return _share(self.right_town, self.with_town)

    def figures(self) -> dict[str, object]:
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__},
                "police_recall": self.police_recall, "diverted_share": self.diverted_share,
                "right_town_share": self.right_town_share}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Miss:
    """One wrong decision, with what the decision said for itself."""

    harm: str
    case: LabelledCaseV1
    decision: Decision


@dataclass
class Scorecard:
    """Every figure of one evaluation run."""

    bundle: str
    bundle_version: str
    total: Tally = field(default_factory=Tally)
    by_source: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confusion: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    misses: dict[str, list[Miss]] = field(default_factory=lambda: {h: [] for h in HARMS})

    def add(self, case: LabelledCaseV1, decision: Decision) -> None:
        for tally in (self.total, self.by_source[case.source], self.by_kind[case.kind]):
            tally.add(case, decision)
        self.confusion[case.kind][decided_type(decision)] += 1
        wrong = harm(case, decision)
        if wrong is not None:
            self.misses[wrong].append(Miss(wrong, case, decision))

    def worst(self, limit: int) -> list[Miss]:
        """Up to `limit` misses, the most harmful kinds first, in file order within a kind."""
        return [m for h in HARMS for m in self.misses[h]][:limit]


def decided_type(decision: Decision) -> str:
    """The confusion table's column: police, or the matter type the town would see."""
    if decision.outcome is Outcome.POLICE:
        return POLICE_COLUMN
    return decision.classification.matter_type or _NO_TYPE


def evaluate(router: Router, cases: Iterable[LabelledCaseV1]) -> Scorecard:
    """Route every case and score the decisions."""
    card = Scorecard(router.jurisdiction.name, router.jurisdiction.version)
    for case in cases:
        card.add(case, router.route(case_incident(case)))
    return card
