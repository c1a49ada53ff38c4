"""Routing: one decision per incident — back to police, a town work order, or review.

Unclear or urgent matters go to police (never divert what may be a crime in progress).
A non-police matter goes to the town's command centre, or to the district centre while
the town is not onboarded; a town that cannot be decided goes to the review queue.
A police matter is placed too: its town (where it happened, no order for it) counts in the town's
接警 figures and safety index; it changes nothing about where the record goes.
Whatever the outcome, the decision names what the bundle did not know (`Unknown`): a category
code not in categories.csv, a unit code from the feed the gazetteer lacks, a received_at in a
year no calendar file covers. The engine decides on without them, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from router.domain.classify import Classification, Classifier
from router.domain.gazetteer import Placement, Resolution, TownResolver, place_names
from router.domain.incident import Incident
from router.domain.jurisdiction import Jurisdiction, Verdict


class Outcome(StrEnum):
    POLICE = "police"
    WORK_ORDER = "work_order"
    REVIEW = "review"


class ReviewReason(StrEnum):
    TOWN_AMBIGUOUS = "town_ambiguous"
    TOWN_UNRESOLVED = "town_unresolved"
    OUTSIDE_JURISDICTION = "outside_jurisdiction"


class UnknownKind(StrEnum):
    CATEGORY_CODE = "category_code"  # treated as no category; its name is read as text
    UNIT_CODE = "unit_code"  # the feed's town_code: neither a town, a village nor a place outside
    RECEIVED_YEAR = "received_year"  # the year of received_at (the bundle's zone) has no calendar file


@dataclass(frozen=True, slots=True)
class Unknown:
    """Something an incident carried that the bundle does not know, and so did not use."""

    kind: UnknownKind
    value: str


_REVIEW_REASON = {
    Placement.AMBIGUOUS: ReviewReason.TOWN_AMBIGUOUS,
    Placement.UNRESOLVED: ReviewReason.TOWN_UNRESOLVED,
    Placement.OUTSIDE: ReviewReason.OUTSIDE_JURISDICTION,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one incident goes and the whole reason why."""

    incident_id: str
    outcome: Outcome
    classification: Classification
    resolution: Resolution | None
    bundle: str
    bundle_version: str
    town_code: str | None = None
    centre_code: str | None = None
    fallback_to_district: bool = False
    review_reason: ReviewReason | None = None
    unknowns: tuple[Unknown, ...] = ()


class Router:
    """Routes incidents with one jurisdiction's data; build once, call many times."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self._jurisdiction = jurisdiction
        self._classifier = Classifier(jurisdiction.rules, place_names(jurisdiction))
        self._resolver = TownResolver(jurisdiction)
        self._category_codes = frozenset(c.code for c in jurisdiction.rules.categories)

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self._jurisdiction

    def route(self, incident: Incident) -> Decision:
        j = self._jurisdiction
        classification = self._classifier.classify(incident)
        unknowns = self._unknowns(incident)
        resolution = self._resolver.resolve(incident)
        town_code = resolution.town_code if resolution.placement is Placement.RESOLVED else None
        if classification.verdict is not Verdict.NON_POLICE:
            return Decision(incident.incident_id, Outcome.POLICE, classification, resolution, j.name, j.version,
                            town_code=town_code, unknowns=unknowns)
        if town_code is None:
            return Decision(
                incident.incident_id, Outcome.REVIEW, classification, resolution, j.name, j.version,
                centre_code=j.district_centre.code, review_reason=_REVIEW_REASON[resolution.placement],
                unknowns=unknowns,
            )
        centre = j.centre_for(town_code)
        return Decision(
            incident.incident_id, Outcome.WORK_ORDER, classification, resolution, j.name, j.version,
            town_code=town_code, centre_code=centre.code, fallback_to_district=centre is j.district_centre,
            unknowns=unknowns,
        )

    def _unknowns(self, incident: Incident) -> tuple[Unknown, ...]:
        found = []
        if incident.category_code and incident.category_code not in self._category_codes:
            found.append(Unknown(UnknownKind.CATEGORY_CODE, incident.category_code))
        if incident.town_code and not self._resolver.knows_code(incident.town_code):
            found.append(Unknown(UnknownKind.UNIT_CODE, incident.town_code))
        calendar = self._jurisdiction.loop.calendar if self._jurisdiction.loop else None
        if calendar is not None:
            year = incident.received_at.astimezone(calendar.timezone).year
            if year not in calendar.years:
                found.append(Unknown(UnknownKind.RECEIVED_YEAR, str(year)))
        return tuple(found)
