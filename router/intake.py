"""Intake: one outcome per feed record, committed with its outbox events in one transaction.

Every record ends in exactly one place: police (forwarded unchanged), a town work order,
the review queue, or the dead-letter topic. A record already in the ledger (same
incident id, or the same invalid bytes) is a no-op, so redelivery and replays are safe.
Event ids are derived from the incident, so a retried batch writes the same events.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from router.dead_letters import FeedRecord, stage_dead_letters
from router.dispatch import Batch, Dispatch, place_of
from router.domain.routing import Decision, Outcome, Router
from router.ids import fact_id, number
from router.store import ledger
from router.wire import InvalidRecord, decision_document, read_incident, to_domain
from schemas.decision import RoutingDecisionV1
from schemas.incident import IncidentV1
from schemas.topics import Topics
from schemas.workorder import ReviewQueuedV1

MAX_RECORD_BYTES = 65_536  # the default size limit of one feed record (FENGQIAO_MAX_RECORD_BYTES)
DEAD_LETTER = "dead_letter"
DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Routed:
    """What happened to one record: an outcome (or dead_letter / duplicate) and its identifiers."""

    outcome: str
    incident_id: str | None = None
    order_id: str | None = None
    town_code: str | None = None
    merged: bool = False  # 并单: the incident repeated an open order
    received_at: datetime | None = None  # the feed's timestamp, for end-to-end latency
    rule_ids: tuple[str, ...] = ()
    reason: str | None = None
    record: FeedRecord | None = field(default=None, repr=False)
    invalid: InvalidRecord | None = field(default=None, repr=False)  # why an unreadable record was dead-lettered


@dataclass
class BatchResult:
    routed: list[Routed]

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.routed)


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
        self._dispatch = Dispatch(router.jurisdiction, topics)
        self._transaction = transaction
        self._topics = topics
        self._max_bytes = max_record_bytes

    def handle(self, records: Sequence[FeedRecord], now: datetime) -> BatchResult:
        """Route `records` in one transaction; raises only on database errors (retry the batch)."""
        jurisdiction = self._router.jurisdiction
        valid: list[tuple[int, FeedRecord, IncidentV1]] = []
        invalid: list[tuple[int, FeedRecord, InvalidRecord]] = []
        for position, record in enumerate(records):
            try:
                valid.append((position, record, read_incident(record.value, self._max_bytes, jurisdiction)))
            except InvalidRecord as error:
                invalid.append((position, record, error))

        batch = Batch()
        outcomes: dict[int, Routed] = {}
        with self._transaction() as conn:
            seen = ledger.known_incidents(conn, (i.source_id for _, _, i in valid))
            fresh = []
            for position, record, incident in valid:
                if incident.source_id in seen:
                    outcomes[position] = Routed(DUPLICATE, incident.source_id, record=record)
                    continue
                seen.add(incident.source_id)
                fresh.append((position, record, incident, self._router.route(to_domain(incident))))
            self._dispatch.prefetch(conn, batch, [place_of(i, d) for _, _, i, d in fresh
                                                  if d.outcome is Outcome.WORK_ORDER])
            for position, record, incident, decision in fresh:
                outcomes[position] = self._stage(conn, batch, record, incident, decision, now)
            staged = stage_dead_letters(conn, batch.rows, [(record, error) for _, record, error in invalid],
                                        self._topics.dead_letters, now)
            for (position, record, error), fresh_letter in zip(invalid, staged, strict=True):
                outcomes[position] = Routed(DEAD_LETTER if fresh_letter else DUPLICATE, reason=error.reason.value,
                                            record=record, invalid=error)
            self._dispatch.flush(conn, batch, now)
            ledger.add_rows(conn, batch.rows)
        routed = [outcomes[position] for position in range(len(records))]
        return BatchResult(routed)

    def _stage(self, conn: Connection, batch: Batch, record: FeedRecord, incident: IncidentV1, decision: Decision,
               now: datetime) -> Routed:
        rows = batch.rows
        wire = RoutingDecisionV1.model_validate(decision_document(decision, now.isoformat()))
        decision_json = wire.model_dump(mode="json")
        key = incident.source_id.encode()
        incident_row = {
            "incident_id": incident.source_id,
            "source_system": incident.source_system,
            "received_at": incident.received_at,
            "outcome": decision.outcome.value,
            "verdict": decision.classification.verdict.value,
            "matter_type": decision.classification.matter_type,
            "town_code": decision.town_code,
            "centre_code": decision.centre_code,
            "order_id": None,
            "bundle_version": decision.bundle_version,
            "decision": decision_json,
            "record": incident.model_dump(mode="json", by_alias=True),
            "routed_at": now,
        }
        rows.setdefault("incidents", []).append(incident_row)
        outbox = rows.setdefault("outbox", [])
        headers = {"fengqiao-outcome": decision.outcome.value, "fengqiao-bundle-version": decision.bundle_version}
        common = {"rule_ids": decision.classification.rule_ids, "incident_id": incident.source_id,
                  "town_code": decision.town_code, "record": record, "received_at": incident.received_at}

        if decision.outcome is Outcome.POLICE:
            event_id = str(fact_id("police", incident.source_id))
            police_headers = {**headers, "fengqiao-decision": json.dumps(decision_json, ensure_ascii=False)}
            # Forwarded unchanged: police dispatch receives the very bytes the feed sent.
            outbox.append(ledger.outbox_row(event_id, self._topics.police, key, record.value, police_headers, now))
            return Routed(Outcome.POLICE.value, **common)

        if decision.outcome is Outcome.WORK_ORDER:
            order_id, merged = self._dispatch.open_or_merge(conn, batch, incident, decision, wire, now)
            incident_row["order_id"] = order_id
            return Routed(Outcome.WORK_ORDER.value, order_id=order_id, merged=merged, **common)

        review_id = number("RV", "review", incident.source_id)
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
            event_id=fact_id("review.queued", review_id),
            occurred_at=now,
            review_id=review_id,
            centre_code=decision.centre_code,
            reason=decision.review_reason.value,
            incident=incident,
            decision=wire,
        )
        outbox.append(ledger.outbox_row(str(event.event_id), self._topics.review, key,
                                  event.model_dump_json(by_alias=True).encode(),
                                  headers, now))
        return Routed(Outcome.REVIEW.value, reason=decision.review_reason.value, **common)
