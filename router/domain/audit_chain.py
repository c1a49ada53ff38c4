"""The access log's hash chain: each row's hash covers the previous row's hash and its own content, so a
deleted, edited or inserted row breaks the chain at a row `fengqiao audit verify` can name.

`row_hash = SHA-256(prev_hash + canonical JSON of the row's content)`; the first row has no
`prev_hash`. The chain head (the last row's id and hash, kept beside the log) catches rows cut from
the end, which no later row could betray.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# What a row's hash covers: everything but its id (the database assigns it) and the chain columns.
CHAINED_FIELDS = ("at", "user_id", "role", "unit_code", "action", "order_id", "outcome", "status", "detail",
                  "source_ip")


def chain_hash(prev_hash: str | None, row: Mapping[str, object]) -> str:
    """The hash of `row` following a row whose hash is `prev_hash` (none for the first row)."""
    content = {f: _canonical(row.get(f)) for f in CHAINED_FIELDS}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(((prev_hash or "") + text).encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    # The same instant hashes the same whatever zone it was written in, on every dialect.
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Break:
    """Where the chain breaks: the first row that does not follow from the one before it."""

    row_id: int | None
    kind: str  # edited | gap | tail
    message: str


@dataclass(frozen=True)
class Head:
    last_id: int | None
    row_hash: str | None


def first_break(rows: Iterable[Mapping[str, object]], head: Head) -> Break | None:
    """The first break in `rows` (in id order, with their id, prev_hash and row_hash), or none when every row
    follows from the one before and the last one is the recorded head."""
    previous: Mapping[str, object] | None = None
    for row in rows:
        expected_prev = previous["row_hash"] if previous else None
        if row["prev_hash"] != expected_prev:
            after = f"after row {previous['id']}" if previous else "before it"
            return Break(row["id"], "gap", f"row {row['id']} does not follow the row {after}: "
                                           "rows were deleted or inserted there")
        if row["row_hash"] != chain_hash(row["prev_hash"], row):
            return Break(row["id"], "edited", f"row {row['id']} was changed after it was written")
        previous = row
    last = Head(previous["id"], previous["row_hash"]) if previous else Head(None, None)
    if last != head:
        return Break(last.last_id, "tail", f"the log ends at row {last.last_id} but its head records row "
                                           f"{head.last_id}: rows were cut from the end")
    return None
