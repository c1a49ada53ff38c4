"""Intake: one outcome per feed record, committed with its outbox events in one transaction.

Every record ends in exactly one place: police (forwarded unchanged), a town work order,
the review queue, or the dead-letter topic. A record already in the ledger (same
incident id, or the same invalid bytes) is a no-op, so redelivery and replays are safe.
Event ids are derived from the incident, so a retried batch writes the same events.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from router.domain.routing import Decision, Outcome, Router
from router.store import ledger
from router.wire import InvalidRecord, decision_document, read_incident, to_domain
from schemas.deadletter import DeadLetterV1, FieldErrorV1
from schemas.decision import RoutingDecisionV1
from schemas.incident import IncidentV1
from schemas.topics import Topics
from schemas.workorder import ReviewQueuedV1, WorkOrderDispatchedV1

_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5f00-9c1e-000000110110")
DEAD_LETTER = "dead_letter"
DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A raw record as consumed, with where it came from (for the dead-letter envelope and logs)."""

    value: bytes
    key: bytes | None = None
    topic: str = ""
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Routed:
    """What happened to one record: an outcome (or dead_letter / duplicate) and its identifiers."""

    outcome: str
    incident_id: str | None = None
    order_id: str | None = None
    town_code: str | None = None
    rule_ids: tuple[str, ...] = ()
    reason: str | None = None
    record: FeedRecord | None = field(default=None, repr=False)


@dataclass
class BatchResult:
    routed: list[Routed]

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.routed)


def order_id_for(incident_id: str) -> str:
    """Deterministic work-order number, so a retried batch opens the same order."""
    return "WO" + uuid.uuid5(_NAMESPACE, f"order:{incident_id}").hex[:14].upper()


def _event_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(parts)))


class Intake:
    """Routes batches of feed records into the ledger and the outbox."""

    def __init__(
        self,
        router: Router,
        transaction: Callable[[], AbstractContextManager[Connection]],
        topics: Topics,
        max_record_bytes: int,
    ) -> None:
        self._router = router
        self._transaction = transaction
        self._topics = topics
        self._max_bytes = max_record_bytes

    def handle(self, records: Sequence[FeedRecord], now: datetime) -> BatchResult:
        """Route `records` in one transaction; raises only on database errors (retry the batch)."""
        valid: list[tuple[FeedRecord, IncidentV1]] = []
        invalid: list[tuple[FeedRecord, InvalidRecord, str]] = []
        for record in records:
            try:
                valid.append((record, read_incident(record.value, self._max_bytes)))
            except InvalidRecord as error:
                invalid.append((record, error, hashlib.sha256(record.value).hexdigest()))

        rows: dict[str, list[dict]] = {}
        routed: list[Routed] = []
        with self._transaction() as conn:
            seen = ledger.known_incidents(conn, (i.source_id for _, i in valid))
            for record, incident in valid:
                if incident.source_id in seen:
                    routed.append(Routed(DUPLICATE, incident.source_id, record=record))
                    continue
                seen.add(incident.source_id)
                decision = self._router.route(to_domain(incident))
                routed.append(self._stage(rows, record, incident, decision, now))
            known = ledger.known_fingerprints(conn, (fp for _, _, fp in invalid))
            for record, error, fingerprint in invalid:
                if fingerprint in known:
                    routed.append(Routed(DUPLICATE, reason=error.reason.value, record=record))
                    continue
                known.add(fingerprint)
                routed.append(self._stage_dead_letter(rows, record, error, fingerprint, now))
            ledger.add_rows(conn, rows)
        return BatchResult(routed)

    def _stage(
        self, rows: dict[str, list[dict]], record: FeedRecord, incident: IncidentV1, decision: Decision, now: datetime
    ) -> Routed:
        wire = RoutingDecisionV1.model_validate(decision_document(decision, now.isoformat()))
        decision_json = wire.model_dump(mode="json")
        key = incident.source_id.encode()
        rows.setdefault("incidents", []).append(
            {
                "incident_id": incident.source_id,
                "source_system": incident.source_system,
                "received_at": incident.received_at,
                "outcome": decision.outcome.value,
                "verdict": decision.classification.verdict.value,
                "matter_type": decision.classification.matter_type,
                "town_code": decision.town_code,
                "centre_code": decision.centre_code,
                "bundle_version": decision.bundle_version,
                "decision": decision_json,
                "record": incident.model_dump(mode="json", by_alias=True),
                "routed_at": now,
            }
        )
        outbox = rows.setdefault("outbox", [])
        headers = {"fengqiao-outcome": decision.outcome.value, "fengqiao-bundle-version": decision.bundle_version}
        common = {"rule_ids": decision.classification.rule_ids, "incident_id": incident.source_id,
                  "town_code": decision.town_code, "record": record}

        if decision.outcome is Outcome.POLICE:
            event_id = _event_id("police", incident.source_id)
            police_headers = {**headers, "fengqiao-event-id": event_id,
                              "fengqiao-decision": json.dumps(decision_json, ensure_ascii=False)}
            # Forwarded unchanged: police dispatch receives the very bytes the feed sent.
            outbox.append(_outbox_row(event_id, self._topics.police, key, record.value, police_headers, now))
            return Routed(Outcome.POLICE.value, **common)

        if decision.outcome is Outcome.WORK_ORDER:
            order_id = order_id_for(incident.source_id)
            assert decision.town_code and decision.centre_code and decision.classification.matter_type
            rows.setdefault("work_orders", []).append(
                {
                    "order_id": order_id,
                    "incident_id": incident.source_id,
                    "town_code": decision.town_code,
                    "centre_code": decision.centre_code,
                    "matter_type": decision.classification.matter_type,
                    "priority": decision.classification.priority.value,
                    "state": "dispatched",
                    "summary": incident.summary,
                    "address": incident.address,
                    "opened_at": now,
                }
            )
            event = WorkOrderDispatchedV1(
                event_id=uuid.UUID(_event_id("workorder.dispatched", order_id)),
                occurred_at=now,
                order_id=order_id,
                town_code=decision.town_code,
                centre_code=decision.centre_code,
                matter_type=decision.classification.matter_type,
                priority=decision.classification.priority.value,
                incident=incident,
                decision=wire,
            )
            value = event.model_dump_json(by_alias=True).encode()
            order_key = order_id.encode()
            event_headers = {**headers, "fengqiao-event-id": str(event.event_id)}
            outbox.append(_outbox_row(str(event.event_id), self._topics.workorder_events, order_key, value,
                                      event_headers, now))
            outbox.append(_outbox_row(_event_id("workorder.dispatched", order_id, "centre"),
                                      self._topics.centre_orders(decision.centre_code), order_key, value,
                                      event_headers, now))
            return Routed(Outcome.WORK_ORDER.value, order_id=order_id, **common)

        review_id = "RV" + uuid.uuid5(_NAMESPACE, f"review:{incident.source_id}").hex[:14].upper()
        assert decision.review_reason and decision.centre_code
        rows.setdefault("review_items", []).append(
            {
                "review_id": review_id,
                "incident_id": incident.source_id,
                "centre_code": decision.centre_code,
                "reason": decision.review_reason.value,
                "candidates": list(decision.resolution.candidates if decision.resolution else ()),
                "state": "open",
                "queued_at": now,
            }
        )
        event = ReviewQueuedV1(
            event_id=uuid.UUID(_event_id("review.queued", review_id)),
            occurred_at=now,
            review_id=review_id,
            centre_code=decision.centre_code,
            reason=decision.review_reason.value,
            incident=incident,
            decision=wire,
        )
        outbox.append(_outbox_row(str(event.event_id), self._topics.review, key,
                                  event.model_dump_json(by_alias=True).encode(),
                                  {**headers, "fengqiao-event-id": str(event.event_id)}, now))
        return Routed(Outcome.REVIEW.value, reason=decision.review_reason.value, **common)

    def _stage_dead_letter(
        self, rows: dict[str, list[dict]], record: FeedRecord, error: InvalidRecord, fingerprint: str, now: datetime
    ) -> Routed:
        event = DeadLetterV1(
            event_id=uuid.UUID(_event_id("dead_letter", fingerprint)),
            occurred_at=now,
            reason=error.reason,
            detail=error.detail,
            errors=tuple(FieldErrorV1(field=f, message=m) for f, m in error.errors),
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            fingerprint=fingerprint,
            size=len(record.value),
            payload_base64=base64.b64encode(record.value).decode("ascii"),
        )
        rows.setdefault("dead_letters", []).append(
            {
                "fingerprint": fingerprint,
                "reason": error.reason.value,
                "detail": error.detail,
                "source_topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "size": len(record.value),
                "payload": record.value,
                "dead_lettered_at": now,
            }
        )
        headers = {"fengqiao-event-id": str(event.event_id), "fengqiao-dead-letter-reason": error.reason.value}
        rows.setdefault("outbox", []).append(
            _outbox_row(str(event.event_id), self._topics.dead_letters, record.key,
                        event.model_dump_json().encode(), headers, now)
        )
        return Routed(DEAD_LETTER, reason=error.reason.value, record=record)


def _outbox_row(event_id: str, topic: str, key: bytes | None, value: bytes, headers: dict, now: datetime) -> dict:
    return {"event_id": event_id, "topic": topic, "key": key, "value": value, "headers": headers, "created_at": now}
