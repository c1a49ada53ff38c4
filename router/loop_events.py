"""Recording a closed-loop fact: one audit row (append-only) and its outbox events, same transaction.

Event ids derive from what happened (the command's idempotency key, or the timer), so a
retried transaction writes the same ids and a repeated fact cannot be recorded twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection

from router.domain.lifecycle import Actor, Order
from router.store import ledger
from schemas.command import ActorV1, WorkOrderEventV1
from schemas.topics import Topics


def record_fact(conn: Connection, topics: Topics, order: Order, **fact: object) -> None:
    """Audit a fact on `order` and queue its events now, in the caller's transaction."""
    rows: dict[str, list[dict]] = {}
    stage_fact(rows, topics, order, **fact)
    ledger.add_rows(conn, rows)


def stage_fact(
    rows: dict[str, list[dict]],
    topics: Topics,
    order: Order,
    *,
    event_id: uuid.UUID,
    event_type: str,
    kind: str,
    at: datetime,
    accepted: bool = True,
    from_state: str | None = None,
    actor: Actor | None = None,
    details: Mapping[str, object] | None = None,
    attachments: Sequence[str] = (),
    **fields: object,
) -> None:
    """Stage the audit row of `kind` on `order` and its `event_type` event for the events topic and the
    centre's topic; many facts then go to the database in one statement per table."""
    details = dict(details or {})
    rows.setdefault("order_events", []).append({
        "event_id": str(event_id),
        "order_id": order.order_id,
        "kind": kind,
        "accepted": accepted,
        "from_state": from_state,
        "to_state": order.state.value,
        "generation": order.generation,
        "actor_user": actor.user_id if actor else None,
        "actor_role": actor.role.value if actor else None,
        "actor_unit": actor.unit_code if actor else None,
        "at": at,
        "details": {**details, "attachments": list(attachments)} if attachments else details,
    })
    event = WorkOrderEventV1(
        event_id=event_id,
        event_type=event_type,
        occurred_at=at,
        order_id=order.order_id,
        town_code=order.town_code,
        centre_code=order.centre_code,
        state=order.state.value,
        generation=order.generation,
        from_state=from_state,
        accepted=accepted,
        actor=ActorV1(user_id=actor.user_id, role=actor.role.value, unit_code=actor.unit_code) if actor else None,
        attachments=tuple(attachments),
        details={k: v if isinstance(v, str | int | float | bool) or v is None else str(v) for k, v in details.items()},
        **fields,
    )
    stage_event(rows, topics, event)


def stage_event(rows: dict[str, list[dict]], topics: Topics, event: WorkOrderEventV1) -> None:
    """Stage `event` for the events topic and, when it names one, its centre's topic."""
    rows.setdefault("outbox", []).append(ledger.outbox_row(
        str(event.event_id), topics.workorder_events, event.order_id.encode(), event.model_dump_json().encode(),
        {"fengqiao-event-type": event.event_type}, event.occurred_at,
        copy_topic=topics.centre_orders(event.centre_code) if event.centre_code else None))
