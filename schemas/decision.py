"""The routing decision: where an incident went and every reason why."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.base import Contract


class EvidenceV1(Contract):
    kind: Literal["town", "village", "street", "outside", "district", "code", "polygon"]
    text: str
    code: str
    town_codes: tuple[str, ...] = ()


class UnknownV1(Contract):
    """Something the incident carried that the bundle does not know, so the decision did without it."""

    kind: Literal["category_code", "unit_code", "received_year"] = Field(
        description="category_code: not in categories.csv, treated as no category (its name is read as text); "
                    "unit_code: the feed's town_code is no town, village or outside place of the bundle, so the "
                    "town was sought by polygon and names; received_year: the year of received_at, in the "
                    "bundle's time zone, has no calendar file (working-day deadlines cannot be counted).")
    value: str = Field(description="The code, or the year, as received.")


class RoutingDecisionV1(Contract):
    """Explains one routing decision: rules, bundle version, evidence and confidence."""

    incident_id: str
    outcome: Literal["police", "work_order", "review"]
    verdict: Literal["police", "non_police", "unclear"]
    reason: str = Field(description="Why the classifier decided so (police_keywords, keywords, feed_category, ...).")
    matter_type: str | None = Field(None, description="事项类型.")
    priority: Literal["urgent", "high", "normal", "low"]
    rule_ids: tuple[str, ...] = ()
    matched_terms: tuple[str, ...] = ()
    negated_terms: tuple[str, ...] = Field(
        (), description="Police terms under a negation or hypothesis cue (未动手, 一旦发生火灾): not counted.")
    shielded_terms: tuple[str, ...] = Field(
        (), description="Rule terms found only inside a longer word or a place name (火灾 in 火灾隐患): not counted.")
    outweighed_terms: tuple[str, ...] = Field(
        (), description="Police terms of a petition to the administration (reason `petition`) that names a civil "
                        "matter; none of them acute: heard, and not enough to keep it with the police.")
    classification_confidence: float
    placement: Literal["resolved", "ambiguous", "unresolved", "outside"] | None = None
    method: Literal["explicit_code", "polygon", "address", "summary", "dispatcher", "none"] | None = Field(
        None, description="How the town was found; `dispatcher`: the district placed it after review (定位派单).")
    evidence: tuple[EvidenceV1, ...] = ()
    candidates: tuple[str, ...] = Field((), description="Candidate town codes when the town is ambiguous.")
    resolution_confidence: float | None = None
    town_code: str | None = Field(
        None, description="The town it happened in, when placed: the order's town; on a police decision only "
                          "where it happened (no order; added in 2026.12, null in older police decisions).")
    centre_code: str | None = Field(None, description="The command centre that receives the order; null for police.")
    fallback_to_district: bool = Field(False, description="The town is not onboarded; its district centre receives it.")
    review_reason: Literal["town_ambiguous", "town_unresolved", "outside_jurisdiction"] | None = Field(
        None, description="Why it waited for the district: set on a review, and kept when the district placed it.")
    placed_by: str | None = Field(None, description="The district account that placed it in a town after review.")
    unknowns: tuple[UnknownV1, ...] = Field(
        (), description="What the bundle did not know (added in 2026.12; absent in older decisions: none).")
    bundle: str
    bundle_version: str
    decided_at: AwareDatetime
