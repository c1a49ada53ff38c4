"""Dead letters (死信): a consumed record that cannot be read is kept, with the reason, once.

The envelope carries the original bytes, so nothing is lost; the same bytes are dead-lettered
once (their SHA-256 is the key), so a replayed bad record is a no-op like any other.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from router.ids import fact_id
from router.store import ledger
from router.wire import InvalidRecord
from schemas.deadletter import DeadLetterV1, FieldErrorV1


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A raw record as consumed, with where it came from (for the dead-letter envelope and logs)."""

    value: bytes
    key: bytes | None = None
    topic: str = ""
    partition: int | None = None
    offset: int | None = None


def fingerprint_of(record: FeedRecord) -> str:
    return hashlib.sha256(record.value).hexdigest()


def stage_dead_letter(rows: dict[str, list[dict]], record: FeedRecord, error: InvalidRecord, fingerprint: str,
                      topic: str, now: datetime) -> None:
    """Stage the dead-letter row and its envelope on `topic` in the caller's transaction."""
    event = DeadLetterV1(
        event_id=fact_id("dead_letter", fingerprint),
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
    rows.setdefault("dead_letters", []).append({
        "fingerprint": fingerprint,
        "reason": error.reason.value,
        "detail": error.detail,
        "source_topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "size": len(record.value),
        "payload": record.value,
        "dead_lettered_at": now,
    })
    headers = {"fengqiao-dead-letter-reason": error.reason.value}
    rows.setdefault("outbox", []).append(
        ledger.outbox_row(str(event.event_id), topic, record.key, event.model_dump_json().encode(), headers, now)
    )
