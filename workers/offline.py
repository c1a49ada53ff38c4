"""Offline routing (`fengqiao route`): the worker's decisions, one JSON line out per line in."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

import pydantic_core

from router.domain.routing import Router
from router.wire import InvalidRecord, decision_document, read_incident, to_domain


def route_lines(lines: Iterable[bytes], router: Router, decided_at: datetime, max_bytes: int) -> Iterator[str]:
    """For each input line: its routing decision, or the dead-letter reason it would get."""
    decided = decided_at.isoformat()
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
        yield pydantic_core.to_json(decision_document(router.route(to_domain(incident)), decided)).decode()
