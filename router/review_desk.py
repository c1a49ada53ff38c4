"""区中心处置 of 待定位: the district decides what the resolver could not.

A non-police incident whose town could not be decided waits in the review queue. The district
dispatcher then either places it in a town (定位派单: the order opens there, or merges into the
open order it repeats, exactly as the intake would have done), merges it into an order they name
(并单), or marks it a police matter (转警务: forwarded to police dispatch with the decision). Each
decision is one transaction: the review row is locked and must still be open, the order, the
audit row naming who decided, the review row and the outbox events change together; a second
decision on the same item is refused, so a double click or two dispatchers decide once.

The decisions are the district's word on where the incident belonged: `fengqiao cases export`
writes them as labelled cases for `fengqiao eval` (router.store.corrections).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select, update

from router.dispatch import Batch, Dispatch, place_of
from router.domain.gazetteer import Method, Placement
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import MERGEABLE, Actor, Role, State
from router.domain.routing import Outcome
from router.ids import fact_id
from router.loop_events import record_fact
from router.store import ledger, orders
from router.store.tables import incidents, review_items
from router.wire import decision_of, read_stored_incident
from schemas.command import ActorV1
from schemas.decision import RoutingDecisionV1
from schemas.topics import Topics
from schemas.workorder import ReviewDecidedV1

# Who may decide: the dispatcher's desk (and admin); the supervisor reads the queue only.
DECIDERS = frozenset({Role.DISTRICT_DISPATCHER, Role.ADMIN})
PLACED, MERGED, POLICE = "placed", "merged", "police"


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What became of a decision: `placed`, `merged`, `police`, or `rejected` with a code."""

    status: str
    review_id: str
    order_id: str | None = None
    town_code: str | None = None
    code: str | None = None  # unknown_review | already_decided | unknown_town | invalid_merge_target | role_not_allowed
    reason: str | None = None


class ReviewDesk:
    def __init__(self, jurisdiction: Jurisdiction, transaction: Callable[[], AbstractContextManager[Connection]],
                 topics: Topics) -> None:
        self._j = jurisdiction
        self._dispatch = Dispatch(jurisdiction, topics)
        self._transaction = transaction
        self._topics = topics

    def place(self, review_id: str, town_code: str, actor: Actor, at: datetime, note: str | None = None
              ) -> ReviewOutcome:
        """定位派单: open the order in `town_code` (or merge it into the open order it repeats there)."""
        if town_code not in self._j.town_by_code:
            return ReviewOutcome("rejected", review_id, code="unknown_town", reason=f"no town {town_code}")
        with self._transaction() as conn:
            item, refusal = self._open_item(conn, review_id, actor)
            if refusal:
                return refusal
            incident = read_stored_incident(item["record"])
            wire = self._placed(RoutingDecisionV1.model_validate(item["decision"]), town_code, actor)
            decision = decision_of(wire)
            batch = Batch()
            self._dispatch.prefetch(conn, batch, [place_of(incident, decision)])
            order_id, merged = self._dispatch.open_or_merge(conn, batch, incident, decision, wire, at)
            self._dispatch.flush(conn, batch, at)
            ledger.add_rows(conn, batch.rows)
            status = MERGED if merged else PLACED
            return self._decided(conn, item, status, actor, at, note, order_id)

    def merge(self, review_id: str, into: str, actor: Actor, at: datetime, note: str | None = None) -> ReviewOutcome:
        """并单: attach the incident's caller to an open order the dispatcher names, in whatever town it is."""
        with self._transaction() as conn:
            item, refusal = self._open_item(conn, review_id, actor)
            if refusal:
                return refusal
            target = orders.order_for_update(conn, into)
            if target is None or State(target["state"]) not in MERGEABLE:
                reason = f"no open order {into} to merge into"
                return ReviewOutcome("rejected", review_id, code="invalid_merge_target", reason=reason)
            incident = read_stored_incident(item["record"])
            batch = Batch()
            self._dispatch.merge_into(conn, batch, target, incident, at)
            self._dispatch.flush(conn, batch, at)
            ledger.add_rows(conn, batch.rows)
            return self._decided(conn, item, MERGED, actor, at, note, into)

    def mark_police(self, review_id: str, actor: Actor, at: datetime, note: str | None = None) -> ReviewOutcome:
        """转警务: forward the incident to police dispatch, the decision saying the district marked it so."""
        with self._transaction() as conn:
            item, refusal = self._open_item(conn, review_id, actor)
            if refusal:
                return refusal
            decision = RoutingDecisionV1.model_validate(item["decision"]).model_copy(update={
                "outcome": Outcome.POLICE.value, "verdict": "police", "reason": "dispatcher", "town_code": None,
                "centre_code": None, "placed_by": actor.user_id})
            document = decision.model_dump(mode="json")
            headers = {"fengqiao-outcome": Outcome.POLICE.value, "fengqiao-bundle-version": decision.bundle_version,
                       "fengqiao-decision": json.dumps(document, ensure_ascii=False)}
            value = read_stored_incident(item["record"]).model_dump_json(by_alias=True).encode()
            ledger.add_rows(conn, {"outbox": [ledger.outbox_row(
                str(fact_id("police", item["incident_id"])), self._topics.police, item["incident_id"].encode(),
                value, headers, at)]})
            return self._decided(conn, item, POLICE, actor, at, note, None)

    def _open_item(self, conn: Connection, review_id: str, actor: Actor
                   ) -> tuple[RowMapping, None] | tuple[None, ReviewOutcome]:
        if actor.role not in DECIDERS:
            return None, ReviewOutcome("rejected", review_id, code="role_not_allowed",
                                       reason=f"role {actor.role} may not decide reviews")
        query = (select(review_items, incidents.c.record, incidents.c.decision)
                 .join(incidents, incidents.c.incident_id == review_items.c.incident_id)
                 .where(review_items.c.review_id == review_id))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=review_items)
        row = conn.execute(query).first()
        if row is None:
            return None, ReviewOutcome("rejected", review_id, code="unknown_review", reason=f"no review {review_id}")
        if row.state != "open":
            return None, ReviewOutcome("rejected", review_id, order_id=row.order_id, town_code=row.town_code,
                                       code="already_decided", reason=f"review {review_id} is {row.state} already")
        return row._mapping, None

    def _placed(self, decision: RoutingDecisionV1, town_code: str, actor: Actor) -> RoutingDecisionV1:
        """The recorded decision, placed by `actor` in `town_code`: only that town's evidence is kept."""
        centre = self._j.centre_for(town_code)
        return decision.model_copy(update={
            "outcome": Outcome.WORK_ORDER.value, "placement": Placement.RESOLVED.value,
            "method": Method.DISPATCHER.value, "town_code": town_code, "centre_code": centre.code,
            "fallback_to_district": centre is self._j.district_centre, "placed_by": actor.user_id,
            "evidence": tuple(e for e in decision.evidence if town_code in e.town_codes or e.code == town_code)})

    def _decided(self, conn: Connection, item: RowMapping, status: str, actor: Actor, at: datetime,
                 note: str | None, order_id: str | None) -> ReviewOutcome:
        """Record the decision on the review row, the incident, the order's audit and the review topic."""
        review_id, incident_id = item["review_id"], item["incident_id"]
        town_code = None
        if order_id is not None:
            order = orders.to_order(orders.order_for_update(conn, order_id))
            town_code = order.town_code
            conn.execute(update(incidents).where(incidents.c.incident_id == incident_id)
                         .values(order_id=order_id, town_code=town_code, centre_code=order.centre_code))
            record_fact(conn, self._topics, order, event_id=fact_id("review.decided", review_id),
                        event_type="workorder.placed", kind="placed", at=at, from_state=order.state.value,
                        actor=actor, details={"review_id": review_id, "incident_id": incident_id,
                                              "reason": item["reason"], "merged": status == MERGED,
                                              **({"text": note} if note else {})})
        conn.execute(update(review_items).where(review_items.c.review_id == review_id).values(
            state=status, decided_at=at, decided_by=actor.user_id, town_code=town_code, order_id=order_id, note=note))
        event = ReviewDecidedV1(
            event_id=fact_id("review.outcome", review_id), occurred_at=at, review_id=review_id,
            incident_id=incident_id, outcome=status, town_code=town_code, order_id=order_id,
            actor=ActorV1(user_id=actor.user_id, role=actor.role.value, unit_code=actor.unit_code))
        ledger.add_rows(conn, {"outbox": [ledger.outbox_row(
            str(event.event_id), self._topics.review, incident_id.encode(), event.model_dump_json().encode(),
            {"fengqiao-event-type": event.event_type}, at)]})
        return ReviewOutcome(status, review_id, order_id=order_id, town_code=town_code)
