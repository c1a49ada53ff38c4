"""派单: open a work order for a routed incident, or merge it into the open order it repeats (并单).

Runs inside the intake's batch transaction. A new order starts its SLA clocks and its first
holding segment; a repeated report attaches its caller to the existing order, and an order
that keeps recurring is flagged a key dispute (重点矛盾纠纷).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import (
    Connection,
    DateTime,
    Float,
    String,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from router.domain.geo import to_wgs84
from router.domain.incident import Datum, Point
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import MERGEABLE, Order, State
from router.domain.loop import MergeRules, Place, box_around, same_matter
from router.domain.notify import NotifyEvent
from router.domain.routing import Decision
from router.domain.sla import Stage, breach_due, clocks_on_open
from router.ids import fact_id, number
from router.loop_events import stage_fact
from router.notifications import Notifier
from router.store import ledger, orders
from router.store.tables import key_disputes, order_reports, work_orders
from schemas.decision import RoutingDecisionV1
from schemas.incident import IncidentV1
from schemas.topics import Topics
from schemas.workorder import WorkOrderDispatchedV1

_OPEN = tuple(sorted(s.value for s in MERGEABLE))


def order_id_for(incident_id: str) -> str:
    """Deterministic work-order number, so a retried batch opens the same order."""
    return number("WO", "order", incident_id)


@dataclass
class _Open:
    """An open order a report may repeat, stored already or opened in this batch; `row` holds
    what a merge needs (state, holder, generation, report count)."""

    order_id: str
    place: Place
    row: dict
    stored: bool = False
    merged_reports: int = 0  # reports this batch merged into a stored order


@dataclass
class Batch:
    """What one intake transaction stages: rows to insert, and the open orders by (town, matter type)."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    open: dict[tuple[str, str], list[_Open]] = field(default_factory=dict)
    disputes: set[str] = field(default_factory=set)  # orders that are key disputes already


class Dispatch:
    def __init__(self, jurisdiction: Jurisdiction, topics: Topics) -> None:
        self._j = jurisdiction
        self._topics = topics
        self._notifier = Notifier(jurisdiction)

    def prefetch(self, conn: Connection, batch: Batch, places: list[Place]) -> None:
        """Load, in one query, the open orders that the batch's reports could repeat, once no other
        transaction can open or merge one of them (`orders.hold_matters`)."""
        if self._j.loop is None or not places:
            return
        orders.hold_matters(conn, ((p.town_code, p.matter_type) for p in places))
        window = self._j.loop.merge.window
        flagged = select(key_disputes.c.order_id).where(key_disputes.c.order_id == work_orders.c.order_id).exists()
        query = (
            select(work_orders.c.order_id, work_orders.c.town_code, work_orders.c.matter_type,
                   work_orders.c.received_at, work_orders.c.village_code, work_orders.c.address, work_orders.c.lon,
                   work_orders.c.lat, work_orders.c.state, work_orders.c.centre_code, work_orders.c.report_due,
                   work_orders.c.generation, work_orders.c.reports, work_orders.c.district_run,
                   work_orders.c.previous_state, flagged.label("flagged"))
            .where(work_orders.c.state.in_(_OPEN),
                   work_orders.c.received_at >= min(p.at for p in places) - window,
                   work_orders.c.received_at <= max(p.at for p in places) + window)
            .order_by(work_orders.c.received_at, work_orders.c.order_id)
        )
        if conn.dialect.name == "postgresql":
            # The statement's text is constant, so psycopg prepares it and PostgreSQL would soon settle
            # on a generic plan, which knows neither the window nor the places and was 50 times slower.
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            # PostgreSQL guesses 10 rows for the unnested places, and once ~13,000 orders were open in
            # the window it switched to a nested loop over every (order, place) pair: 1 s a batch, the
            # intake 4x slower. A hash join on town and matter type stays flat; only this query is steered.
            conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
            query, params = query.where(_could_match_any()), _place_arrays(places, window,
                                                                           self._j.loop.merge.radius_m)
        else:
            keys = {(p.town_code, p.matter_type) for p in places}
            query, params = query.where(tuple_(work_orders.c.town_code, work_orders.c.matter_type).in_(sorted(keys)),
                                        or_(*_could_match(places, self._j.loop.merge.radius_m))), {}
        rows = conn.execute(query, params).all()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_nestloop = on")
        for row in rows:
            place = Place(row.town_code, row.matter_type, row.received_at, row.village_code, row.address, row.lon,
                          row.lat)
            batch.open.setdefault((row.town_code, row.matter_type), []).append(
                _Open(row.order_id, place, dict(row._mapping), stored=True))
            if row.flagged:
                batch.disputes.add(row.order_id)

    def flush(self, conn: Connection, batch: Batch, now: datetime) -> None:
        """Write the report counts this batch added to stored orders, in one pipelined statement."""
        merged = [o for opens in batch.open.values() for o in opens if o.stored and o.merged_reports]
        if merged:
            conn.execute(
                update(work_orders).where(work_orders.c.order_id == bindparam("merged_id"))
                .values(reports=work_orders.c.reports + bindparam("added"), updated_at=now),
                [{"merged_id": o.order_id, "added": o.merged_reports} for o in merged],
            )

    def open_or_merge(self, conn: Connection, batch: Batch, incident: IncidentV1, decision: Decision,
                      wire: RoutingDecisionV1, now: datetime) -> tuple[str, bool]:
        """The order the incident ends in, and whether it was merged into an existing one."""
        assert decision.town_code and decision.centre_code and decision.classification.matter_type
        place = place_of(incident, decision)
        loop = self._j.loop
        if loop is not None:
            existing = self._repeated(batch, place, loop.merge)
            if existing is not None:
                self._merge(conn, batch, existing, incident, place, now)
                return existing.order_id, True
        return self._open(conn, batch, incident, decision, wire, place, now), False

    def merge_into(self, conn: Connection, batch: Batch, row: Mapping, incident: IncidentV1, now: datetime) -> None:
        """并单 by hand: attach `incident` to the open order `row` (locked by the caller), wherever it is."""
        place = Place(row["town_code"], row["matter_type"], row["received_at"], row["village_code"], row["address"],
                      row["lon"], row["lat"])
        existing = _Open(row["order_id"], place, dict(row), stored=True)
        batch.open.setdefault((place.town_code, place.matter_type), []).append(existing)
        self._merge(conn, batch, existing, incident, replace(place, at=incident.received_at), now)

    @staticmethod
    def _repeated(batch: Batch, place: Place, rules: MergeRules) -> _Open | None:
        for candidate in batch.open.get((place.town_code, place.matter_type), ()):
            if same_matter(candidate.place, place, rules):
                return candidate
        return None

    def _open(self, conn: Connection, batch: Batch, incident: IncidentV1, decision: Decision,
              wire: RoutingDecisionV1, place: Place, now: datetime) -> str:
        order_id = order_id_for(incident.source_id)
        order = Order(order_id, State.DISPATCHED, place.town_code, decision.centre_code, None,
                      district_run=decision.fallback_to_district)
        report_due = acknowledge_due = None
        if self._j.loop is not None:
            loop = self._j.loop
            policy = loop.sla.policy_for(place.matter_type, decision.classification.priority.value)
            clocks = clocks_on_open(order, now, policy, loop.calendar)
            report_due, acknowledge_due = clocks.report_due, breach_due(clocks, Stage.ACKNOWLEDGE)
            timers = [t for ts in clocks.replace.values() for t in ts]
            batch.rows.setdefault("sla_timers", []).extend(
                {**row, "status": "pending"} for row in orders.timer_rows(timers))
        row = {
            "order_id": order_id,
            "incident_id": incident.source_id,
            "town_code": place.town_code,
            "centre_code": decision.centre_code,
            "district_run": order.district_run,
            "matter_type": place.matter_type,
            "priority": decision.classification.priority.value,
            "state": State.DISPATCHED.value,
            "summary": incident.summary,
            "address": incident.address,
            "opened_at": now,
            "generation": 0,
            "report_due": report_due,
            "acknowledge_due": acknowledge_due,
            "returns": 0,
            "village_code": place.village_code,
            "lon": place.lon,
            "lat": place.lat,
            "reports": 1,
            "received_at": incident.received_at,
            "updated_at": now,
        }
        batch.rows.setdefault("work_orders", []).append(row)
        batch.open.setdefault((place.town_code, place.matter_type), []).append(_Open(order_id, place, row))
        batch.rows.setdefault("holdings", []).append({"order_id": order_id, "unit_code": order.charged_unit,
                                                      "from_at": now})
        batch.rows.setdefault("order_reports", []).append(_report_row(incident, order_id, now))
        event = WorkOrderDispatchedV1(
            event_id=fact_id("workorder.dispatched", order_id),
            occurred_at=now,
            order_id=order_id,
            town_code=place.town_code,
            centre_code=decision.centre_code,
            matter_type=place.matter_type,
            priority=decision.classification.priority.value,
            incident=incident,
            decision=wire,
        )
        headers = {"fengqiao-event-type": event.event_type, "fengqiao-bundle-version": decision.bundle_version}
        # The district-wide topic needs no caller; a centre's own only when its system calls callers back.
        without_caller = event.model_copy(update={"incident": incident.model_copy(update={"caller": None})})
        calls_back = decision.centre_code in self._j.callers_for_centres
        batch.rows.setdefault("outbox", []).append(ledger.outbox_row(
            str(event.event_id), self._topics.workorder_events, order_id.encode(),
            without_caller.model_dump_json(by_alias=True).encode(), headers, now,
            copy_topic=self._topics.centre_orders(decision.centre_code),
            copy_value=event.model_dump_json(by_alias=True).encode() if calls_back else None))
        callers = [incident.caller.name] if incident.caller and incident.caller.name else []
        self._notifier.stage(batch.rows, event.event_id, NotifyEvent.NEW_ORDER, row, now, callers)
        return order_id

    def _merge(self, conn: Connection, batch: Batch, existing: _Open, incident: IncidentV1, place: Place,
               now: datetime) -> None:
        row, order_id = existing.row, existing.order_id
        row["reports"] += 1
        if existing.stored:
            existing.merged_reports += 1
        batch.rows.setdefault("order_reports", []).append(_report_row(incident, order_id, now))
        # An order waiting on a decision (退单, 延期) or parked (挂账) keeps where it goes back to.
        previous = row.get("previous_state")
        order = Order(order_id, State(row["state"]), row["town_code"], row["centre_code"], row["report_due"],
                      generation=row["generation"], district_run=row["district_run"],
                      previous=State(previous) if previous else None)
        stage_fact(batch.rows, self._topics, order, event_id=fact_id("report_merged", incident.source_id),
                   event_type="workorder.report_merged", kind="report_merged", at=now,
                   details={"incident_id": incident.source_id, "reports": row["reports"]})
        rules = self._j.loop.merge
        if row["reports"] >= rules.key_dispute_reports and rules.may_be_key_dispute(row["matter_type"]):
            self._flag_key_dispute(conn, batch, order, row, incident, place, now)

    def _flag_key_dispute(self, conn: Connection, batch: Batch, order: Order, row: dict, incident: IncidentV1,
                          place: Place, now: datetime) -> None:
        loop = self._j.loop
        assert loop is not None
        rules = loop.merge
        # Before the count: an order that keeps recurring is merged into again and again, and a count
        # query per repeat was most of the intake's waiting on the database.
        if order.order_id in batch.disputes:  # flagged already (prefetch read the flag)
            return
        since = place.at - rules.key_dispute_window
        in_db = conn.scalar(select(func.count()).select_from(order_reports).where(
            order_reports.c.order_id == order.order_id, order_reports.c.received_at >= since)) or 0
        in_batch = sum(1 for r in batch.rows.get("order_reports", ())
                       if r["order_id"] == order.order_id and r["received_at"] >= since)
        if in_db + in_batch < rules.key_dispute_reports:
            return
        batch.disputes.add(order.order_id)
        due = loop.calendar.add_working_days(now, rules.key_dispute_working_days)
        batch.rows.setdefault("key_disputes", []).append({
            "order_id": order.order_id, "town_code": order.town_code, "matter_type": row["matter_type"],
            "reports": in_db + in_batch, "flagged_at": now, "resolution_due": due,
            # The town answers for it until the district names a leader and a person (包案).
            "responsible_unit": self._j.town_by_code[order.town_code].name,
        })
        stage_fact(batch.rows, self._topics, order, event_id=fact_id("key_dispute", order.order_id),
                   event_type="workorder.key_dispute_flagged", kind="key_dispute_flagged", at=now,
                   details={"reports": in_db + in_batch, "resolution_due": due.isoformat(),
                            "incident_id": incident.source_id})


def _could_match(places: list[Place], radius_m: float) -> list:
    """SQL conditions an order must meet to be repeated by one of `places` (same_matter decides)."""
    conditions = []
    villages = sorted({p.village_code for p in places if p.village_code})
    addresses = sorted({p.address for p in places if p.address})
    if villages:
        conditions.append(work_orders.c.village_code.in_(villages))
    if addresses:
        conditions.append(work_orders.c.address.in_(addresses))
    for p in places:
        if p.lon is not None and p.lat is not None:
            west, east, south, north = box_around(p.lon, p.lat, radius_m)
            conditions.append(and_(work_orders.c.lon.between(west, east), work_orders.c.lat.between(south, north)))
    return conditions or [false()]


_PLACES = func.unnest(
    bindparam("p_town", type_=ARRAY(String)), bindparam("p_matter", type_=ARRAY(String)),
    bindparam("p_village", type_=ARRAY(String)), bindparam("p_address", type_=ARRAY(String)),
    bindparam("p_from", type_=ARRAY(DateTime(timezone=True))), bindparam("p_to", type_=ARRAY(DateTime(timezone=True))),
    bindparam("p_west", type_=ARRAY(Float)), bindparam("p_east", type_=ARRAY(Float)),
    bindparam("p_south", type_=ARRAY(Float)), bindparam("p_north", type_=ARRAY(Float)),
).table_valued("town", "matter", "village", "address", "from_at", "to_at", "west", "east", "south", "north") \
    .render_derived(name="p")


def _could_match_any():
    """PostgreSQL: the same candidates as `_could_match`, each place only against its own town and
    matter type and its own window, as one statement over arrays (`_place_arrays`).

    The OR of a box per report grew with the batch and was checked against every open order of
    the window; its text changed with every batch, so it was compiled and parsed anew each time.
    Here the text is constant and PostgreSQL probes each order (a hash semi-join on town and
    matter type) against the places of its own (town, matter type) only.
    """
    p = _PLACES
    return select(p.c.town).where(
        p.c.town == work_orders.c.town_code, p.c.matter == work_orders.c.matter_type,
        work_orders.c.received_at.between(p.c.from_at, p.c.to_at),
        or_(work_orders.c.village_code == p.c.village, work_orders.c.address == p.c.address,
            and_(work_orders.c.lon.between(p.c.west, p.c.east), work_orders.c.lat.between(p.c.south, p.c.north))),
    ).exists()


def _place_arrays(places: list[Place], window: timedelta, radius_m: float) -> dict[str, list]:
    columns: dict[str, list] = {k: [] for k in ("p_town", "p_matter", "p_village", "p_address", "p_from", "p_to",
                                                 "p_west", "p_east", "p_south", "p_north")}
    for p in places:
        box: tuple[float | None, ...] = (None, None, None, None)
        if p.lon is not None and p.lat is not None:
            box = box_around(p.lon, p.lat, radius_m)
        for key, value in zip(columns, (p.town_code, p.matter_type, p.village_code or None, p.address or None,
                                        p.at - window, p.at + window, *box), strict=True):
            columns[key].append(value)
    return columns


def _report_row(incident: IncidentV1, order_id: str, now: datetime) -> dict:
    caller = incident.caller.model_dump(mode="json") if incident.caller else None
    return {"incident_id": incident.source_id, "order_id": order_id, "caller": caller,
            "received_at": incident.received_at, "attached_at": now}


def place_of(incident: IncidentV1, decision: Decision) -> Place:
    """Where a routed non-police incident is, as merging compares places (WGS-84 coordinates)."""
    village = next((e.code for e in decision.resolution.evidence if e.kind == "village"), None) \
        if decision.resolution else None
    lon = lat = None
    if incident.location is not None:
        lon, lat = to_wgs84(Point(incident.location.lon, incident.location.lat, Datum(incident.location.datum)))
    return Place(decision.town_code or "", decision.classification.matter_type or "", incident.received_at,
                 village, incident.address, lon, lat)

