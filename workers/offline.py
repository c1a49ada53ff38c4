"""Offline routing (`fengqiao route`, `fengqiao route-diff`): the worker's decisions, one line out per line in.

Both read a feed file as the worker reads the topic: a record that cannot be read gets the dead-letter
reason the worker would give it, and an incident id seen on an earlier line is routed once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic_core

from router.domain.jurisdiction import Jurisdiction
from router.domain.routing import Decision, Outcome, Router
from router.domain.sla import Stage
from router.domain.workdays import CalendarGap
from router.wire import InvalidRecord, decision_document, read_incident, to_domain


@dataclass(frozen=True, slots=True)
class Read:
    """What one non-blank input line came to: a decision, a dead-letter reason, or a repeat of `first_line`."""

    line: int
    decision: Decision | None = None
    received_at: datetime | None = None
    dead_letter: InvalidRecord | None = None
    incident_id: str | None = None
    first_line: int | None = None


def read_lines(lines: Iterable[bytes], router: Router, max_bytes: int) -> Iterator[Read]:
    """Route each line as the worker would: one decision per incident id, later lines with it are repeats."""
    first_line: dict[str, int] = {}  # incident id → the line that decided it: the worker routes an id once
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            incident = read_incident(line, max_bytes, router.jurisdiction)
        except InvalidRecord as error:
            yield Read(number, dead_letter=error)
            continue
        if incident.source_id in first_line:
            yield Read(number, incident_id=incident.source_id, first_line=first_line[incident.source_id])
            continue
        first_line[incident.source_id] = number
        yield Read(number, router.route(to_domain(incident)), incident.received_at, incident_id=incident.source_id)


def route_lines(lines: Iterable[bytes], router: Router, decided_at: datetime, max_bytes: int,
                with_deadlines: bool = False) -> Iterator[str]:
    """For each input line: its routing decision, the dead-letter reason it would get, or, for an incident id
    seen on an earlier line, a `duplicate` note naming that line (one decision per id, as the worker).
    `with_deadlines` adds to each decision that opens a work order the deadlines it would get (`deadlines`)."""
    decided = decided_at.isoformat()
    for read in read_lines(lines, router, max_bytes):
        if read.dead_letter is not None:
            yield json.dumps({"line": read.line, "outcome": "dead_letter", "reason": read.dead_letter.reason.value,
                              "detail": read.dead_letter.detail}, ensure_ascii=False)
        elif read.decision is None:
            yield json.dumps({"line": read.line, "outcome": "duplicate", "incident_id": read.incident_id,
                              "note": f"repeats line {read.first_line}: an incident id is routed once, a repeat "
                                      "is a no-op"}, ensure_ascii=False)
        else:
            document = decision_document(read.decision, decided)
            if with_deadlines and read.decision.outcome is Outcome.WORK_ORDER:
                assert read.received_at is not None
                document["deadlines"] = deadlines(read.decision, read.received_at, router.jurisdiction)
            yield pydantic_core.to_json(document).decode()


def deadlines(decision: Decision, received_at: datetime, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """The SLA deadlines (签收 acknowledge, 反馈 report, 办结 resolve) an order opened for `decision` at
    `received_at` would get: the engine's policy lookup and `Limit.due` on the bundle's calendar, in its zone.

    Under a policy whose clocks start at 签收 (`clock_start` acknowledge) the report and resolve deadlines
    are shown as if the order were acknowledged the moment it was received: the earliest they can be."""
    loop = jurisdiction.loop
    if loop is None:
        return {"policy": None, "note": "the bundle has no SLA rules: orders open without clocks"}
    policy = loop.sla.policy_for(decision.classification.matter_type or "", decision.classification.priority.value)
    out: dict[str, Any] = {"clock_start": policy.clock_start.value}
    try:
        for stage in Stage:
            limit = policy.limit(stage)
            out[stage.value] = limit.due(received_at, loop.calendar).astimezone(loop.calendar.timezone).isoformat()
    except CalendarGap as gap:
        return {"clock_start": policy.clock_start.value, "calendar_gap": gap.year, "note": str(gap)}
    return out


DIFFERENCES = ("verdict", "outcome", "town_code", "matter_type", "priority")
"""What a bundle change can change about a record's routing, in the order `route-diff` prints them."""


def _routing(read: Read) -> dict[str, str | None]:
    d = read.decision
    if d is None:  # a bundle's unit codes decide whether a record is read, so a repeat under one may not be
        outcome = f"dead_letter:{read.dead_letter.reason.value}" if read.dead_letter else "duplicate"
        return {"verdict": None, "outcome": outcome, "town_code": None, "matter_type": None, "priority": None}
    return {"verdict": d.classification.verdict.value, "outcome": d.outcome.value, "town_code": d.town_code,
            "matter_type": d.classification.matter_type, "priority": d.classification.priority.value}


def diff_lines(lines: Sequence[bytes], old: Router, new: Router, max_bytes: int) -> Iterator[str]:
    """One line per record the `new` bundle routes differently from the `old` one (what changed, old → new),
    then the count: what a district runs on last month's feed before switching a rule change on."""
    changed: Counter[str] = Counter()
    records = differing = 0
    for before, after in zip(read_lines(lines, old, max_bytes), read_lines(lines, new, max_bytes), strict=True):
        if before.first_line is not None and after.first_line is not None:
            continue  # a repeated id is a no-op under either bundle
        records += 1
        was, now = _routing(before), _routing(after)
        fields = [f for f in DIFFERENCES if was[f] != now[f]]
        if not fields:
            continue
        differing += 1
        changed.update(fields)
        who = before.incident_id or after.incident_id or "-"
        yield f"line {before.line} {who}: " + "; ".join(f"{f} {was[f] or '-'} → {now[f] or '-'}" for f in fields)
    by_field = ", ".join(f"{f} {changed[f]}" for f in DIFFERENCES if changed[f])
    yield f"{differing} of {records} records route differently" + (f" ({by_field})" if by_field else "")
