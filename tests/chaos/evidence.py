"""What a run left behind, read once from the database and the output topics: the checker judges this,
never the workers' own metrics or logs."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from router.store.database import make_engine
from router.store.tables import (
    commands,
    dead_letters,
    incidents,
    order_events,
    outbox,
    review_items,
    sla_timers,
    work_orders,
)
from schemas.topics import Topics
from tests.integration.support import consume_all, incident_of

EVENT_ID = "fengqiao-event-id"


@dataclass(frozen=True, slots=True)
class Published:
    """One event as the topics hold it, once per event id (redeliveries of the relay folded)."""

    event_id: str
    key: str | None
    body: dict


@dataclass
class Evidence:
    """The database's rows and the topics' events that the checks need."""

    ledger: dict[str, dict]  # incident id → incidents row
    review_reasons: dict[str, str]  # incident id → review reason
    dead_letters: dict[str, datetime]  # fingerprint → dead_lettered_at
    unpublished: int
    orders: list[dict]
    audit: list[dict]  # order_events rows
    timers: list[dict]
    command_keys: set[str]
    police: list[Published] = field(default_factory=list)
    order_events: list[Published] = field(default_factory=list)
    reviews: list[Published] = field(default_factory=list)
    dead_letter_events: list[Published] = field(default_factory=list)

    def outcomes_on_topics(self) -> dict[str, list[str]]:
        """Incident id → the event ids that gave it an outcome: forwarded to police, opened an order,
        merged into one (并单) or queued for review."""
        found: dict[str, list[str]] = defaultdict(list)
        for event in self.police:
            if event.key is not None:
                found[event.key].append(event.event_id)
        for event in (*self.order_events, *self.reviews):
            incident = incident_of(event.body)
            if incident is not None:
                found[incident].append(event.event_id)
        return found


def read_evidence(database_url: str, bootstrap: str, topics: Topics) -> Evidence:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            evidence = Evidence(
                ledger={r.incident_id: dict(r._mapping) for r in conn.execute(
                    select(incidents.c.incident_id, incidents.c.outcome, incidents.c.town_code,
                           incidents.c.centre_code, incidents.c.order_id, incidents.c.routed_at))},
                review_reasons=dict(conn.execute(select(review_items.c.incident_id, review_items.c.reason)).all()),
                dead_letters=dict(conn.execute(select(dead_letters.c.fingerprint,
                                                      dead_letters.c.dead_lettered_at)).all()),
                unpublished=conn.scalar(select(func.count()).select_from(outbox)
                                        .where(outbox.c.published_at.is_(None))) or 0,
                orders=[dict(r._mapping) for r in conn.execute(select(
                    work_orders.c.order_id, work_orders.c.incident_id, work_orders.c.town_code,
                    work_orders.c.matter_type, work_orders.c.received_at, work_orders.c.village_code,
                    work_orders.c.address, work_orders.c.lon, work_orders.c.lat, work_orders.c.opened_at,
                    work_orders.c.state, work_orders.c.reports))],
                audit=[dict(r._mapping) for r in conn.execute(select(
                    order_events.c.event_id, order_events.c.order_id, order_events.c.kind, order_events.c.accepted,
                    order_events.c.to_state, order_events.c.generation, order_events.c.at))],
                timers=[dict(r._mapping) for r in conn.execute(select(sla_timers))],
                command_keys=set(conn.scalars(select(commands.c.idempotency_key))),
            )
    finally:
        engine.dispose()
    names = (topics.police, topics.workorder_events, topics.review, topics.dead_letters)
    with ThreadPoolExecutor(len(names)) as pool:
        read = list(pool.map(lambda topic: _published(bootstrap, topic, json_body=topic != topics.police), names))
    evidence.police, evidence.order_events, evidence.reviews, evidence.dead_letter_events = read
    return evidence


def _published(bootstrap: str, topic: str, *, json_body: bool) -> list[Published]:
    unique: dict[str, Published] = {}
    for record in consume_all(bootstrap, topic, idle_s=1.0):
        headers = {k: v.decode() for k, v in record.headers}
        event_id = headers[EVENT_ID]
        # Police records are the feed's own bytes; every other topic carries a JSON event of ours.
        body = json.loads(record.value) if json_body else {}
        unique.setdefault(event_id, Published(event_id, record.key.decode() if record.key else None, body))
    return list(unique.values())
