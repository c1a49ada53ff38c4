"""Offline routing (`fengqiao route`): the worker's decisions, one JSON line out per line in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

import pydantic_core

from router.domain.routing import Router
from router.wire import InvalidRecord, decision_document, read_incident, to_domain


def route_lines(lines: Iterable[bytes], router: Router, decided_at: datetime, max_bytes: int) -> Iterator[str]:
    """For each input line: its routing decision, the dead-letter reason it would get, or, for an incident id
    seen on an earlier line, a `duplicate` note naming that line (one decision per id, as the worker)."""
    decided = decided_at.isoformat()
    first_line: dict[str, int] = {}  # incident id → the line that decided it: the worker routes an id once
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            incident = read_incident(line, max_bytes, router.jurisdiction)
        except InvalidRecord as error:
            yield json.dumps(
                {"line": number, "outcome": "dead_letter", "reason": error.reason.value, "detail": error.detail},
                ensure_ascii=False,
            )
            continue
        if incident.source_id in first_line:
            yield json.dumps({"line": number, "outcome": "duplicate", "incident_id": incident.source_id,
                              "note": f"repeats line {first_line[incident.source_id]}: an incident id is routed "
                                      "once, a repeat is a no-op"}, ensure_ascii=False)
            continue
        first_line[incident.source_id] = number
        yield pydantic_core.to_json(decision_document(router.route(to_domain(incident)), decided)).decode()
