"""The one adapter between wire contracts (`schemas`) and the pure core (`router.domain`).

Reading a raw feed record either yields an incident (`IncidentV1`, or its wider `IncidentV2`) or raises `InvalidRecord`
with a dead-letter reason; nothing in between is silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from router.domain.classify import Classification
from router.domain.gazetteer import Evidence, Method, Placement, Resolution
from router.domain.incident import Datum, Incident, Point
from router.domain.jurisdiction import Jurisdiction, Priority, Verdict
from router.domain.routing import Decision, Outcome, ReviewReason, Unknown, UnknownKind
from schemas.base import Contract
from schemas.deadletter import DeadLetterReason
from schemas.decision import RoutingDecisionV1
from schemas.incident import INCIDENT_RECORD, IncidentV1


class InvalidRecord(Exception):
    """A feed record that cannot be read; it goes to the dead-letter topic with `reason`."""

    def __init__(self, reason: DeadLetterReason, detail: str, errors: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.errors = errors


def read_incident(raw: bytes, max_bytes: int, jurisdiction: Jurisdiction) -> IncidentV1:
    """Decode and validate one feed record, or raise InvalidRecord naming what is wrong.

    The contract admits any unit code of its character set; whether `town_code` has this district's
    format is the bundle's rule (`[units] code_pattern`), the same one `config check` holds towns.csv to.
    """
    record: IncidentV1 = read_record(raw, INCIDENT_RECORD, max_bytes)
    if record.town_code is not None and not jurisdiction.is_unit_code(record.town_code):
        message = (f"{record.town_code!r} is not a unit code of bundle {jurisdiction.name} "
                   f"([units] code_pattern {jurisdiction.unit_code_pattern!r})")
        raise InvalidRecord(DeadLetterReason.SCHEMA_VIOLATION, f"town_code: {message}", (("town_code", message),))
    return record


def read_record(raw: bytes, contract: type[Contract] | TypeAdapter[Any], max_bytes: int) -> Any:
    """Decode and validate one Kafka record against `contract` (a model, or a union of versions told apart by
    the record's `schema` field), or raise InvalidRecord."""
    if len(raw) > max_bytes:
        raise InvalidRecord(DeadLetterReason.OVERSIZE, f"record is {len(raw)} bytes; the limit is {max_bytes}")
    versioned = isinstance(contract, TypeAdapter)
    try:
        return contract.validate_json(raw) if versioned else contract.model_validate_json(raw)
    except ValidationError as error:
        problems = error.errors(include_input=False)
    if problems[0]["type"] == "json_invalid":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRecord(
                DeadLetterReason.BAD_ENCODING, f"not UTF-8: {error.reason} at byte {error.start}"
            ) from None
        raise InvalidRecord(DeadLetterReason.NOT_JSON, f"not JSON: {problems[0]['msg']}")
    if versioned:  # a union's errors start with the version tag; a field is named as in its version's schema
        problems = [_unversioned(e) for e in problems]
    # Field names and messages only: the offending input may be personal data.
    errors = tuple((".".join(str(p) for p in e["loc"]) or "(record)", e["msg"]) for e in problems)
    summary = "; ".join(f"{field}: {message}" for field, message in errors[:5])
    raise InvalidRecord(DeadLetterReason.SCHEMA_VIOLATION, summary, errors)


def _unversioned(problem: Any) -> Any:
    if problem["type"] == "union_tag_invalid":
        return {**problem, "loc": ("schema",), "msg": f"unknown contract {problem['ctx']['tag']!r}; expected "
                                                      f"{problem['ctx']['expected_tags']}"}
    return {**problem, "loc": problem["loc"][1:]}


def read_stored_incident(record: Any) -> IncidentV1:
    """An incident as stored with its decision (`incidents.record`): whichever version it arrived as."""
    return INCIDENT_RECORD.validate_python(record)


def to_domain(record: IncidentV1) -> Incident:
    """The core's incident: what routes. A v2 record's priority, disposition, flags and attributes do not."""
    point = None
    if record.location is not None:
        point = Point(record.location.lon, record.location.lat, Datum(record.location.datum))
    return Incident(
        incident_id=record.source_id,
        received_at=record.received_at,
        channel=str(record.channel),
        summary=record.summary,
        address=record.address,
        category_code=record.category_code,
        category_name=record.category_name,
        point=point,
        town_code=record.town_code,
    )


def decision_document(decision: Decision, decided_at: str) -> dict[str, Any]:
    """A decision in the shape of `RoutingDecisionV1`, as plain data.

    Plain data because offline routing serialises hundreds of thousands of these and the
    core's own types need no re-validation; `RoutingDecisionV1.model_validate` accepts it.
    `decided_at` is ISO 8601 text, formatted once per batch.
    """
    c = decision.classification
    r: Resolution | None = decision.resolution
    return {
        "incident_id": decision.incident_id,
        "outcome": decision.outcome.value,
        "verdict": c.verdict.value,
        "reason": c.reason,
        "matter_type": c.matter_type,
        "priority": c.priority.value,
        "rule_ids": c.rule_ids,
        "matched_terms": c.matched_terms,
        "negated_terms": c.negated_terms,
        "shielded_terms": c.shielded_terms,
        "outweighed_terms": c.outweighed_terms,
        "classification_confidence": c.confidence,
        "placement": r.placement.value if r else None,
        "method": r.method.value if r else None,
        "evidence": [{"kind": e.kind, "text": e.text, "code": e.code, "town_codes": e.town_codes}
                     for e in r.evidence] if r else [],
        "candidates": r.candidates if r else (),
        "resolution_confidence": r.confidence if r else None,
        "town_code": decision.town_code,
        "centre_code": decision.centre_code,
        "fallback_to_district": decision.fallback_to_district,
        "review_reason": decision.review_reason.value if decision.review_reason else None,
        "placed_by": None,
        "unknowns": [{"kind": u.kind.value, "value": u.value} for u in decision.unknowns],
        "bundle": decision.bundle,
        "bundle_version": decision.bundle_version,
        "decided_at": decided_at,
    }


def decision_of(document: RoutingDecisionV1) -> Decision:
    """The core's decision back from its recorded document (`decision_document`'s inverse)."""
    d = document
    classification = Classification(
        Verdict(d.verdict), d.matter_type, Priority(d.priority), d.reason, d.rule_ids, d.matched_terms,
        d.negated_terms, d.classification_confidence, d.shielded_terms, d.outweighed_terms)
    resolution = None if d.placement is None else Resolution(
        Placement(d.placement), Method(d.method or "none"), d.town_code, d.candidates,
        tuple(Evidence(e.kind, e.text, e.code, e.town_codes) for e in d.evidence), d.resolution_confidence or 0.0)
    return Decision(d.incident_id, Outcome(d.outcome), classification, resolution, d.bundle, d.bundle_version,
                    d.town_code, d.centre_code, d.fallback_to_district,
                    ReviewReason(d.review_reason) if d.review_reason else None,
                    tuple(Unknown(UnknownKind(u.kind), u.value) for u in d.unknowns))
