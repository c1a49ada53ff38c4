"""Dead letters (死信): a consumed record that cannot be read is kept, with the reason, once.

The envelope carries the original bytes, so nothing is lost; the same bytes are dead-lettered
once (their SHA-256 is the key), so a replayed bad record is a no-op like any other. After a fix
(a bundle that knows the town, a larger size limit) the district re-drives a dead letter (重投): its
bytes go back to the topic they came from; read again and still unreadable, they are dead-lettered
again, the re-drive counted.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

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
    headers: tuple[tuple[str, bytes], ...] = ()  # only the command channel reads them (its sender's token)


def fingerprint_of(record: FeedRecord) -> str:
    return hashlib.sha256(record.value).hexdigest()


def stage_dead_letters(conn: Connection, rows: dict[str, list[dict]],
                       unreadable: Sequence[tuple[FeedRecord, InvalidRecord]], topic: str, now: datetime) -> list[bool]:
    """Stage each unreadable record's dead letter in the caller's transaction, once: False where the same
    bytes are dead-lettered already and were not re-driven since (or came earlier in `unreadable`)."""
    fingerprints = [fingerprint_of(record) for record, _ in unreadable]
    known = ledger.dead_letter_redrives(conn, fingerprints)
    ledger.forget_dead_letters(conn, [fp for fp, (_, redriven) in known.items() if redriven])
    staged, seen = [], set()
    for (record, error), fingerprint in zip(unreadable, fingerprints, strict=True):
        redrives, redriven = known.get(fingerprint, (0, False))
        if fingerprint in seen or (fingerprint in known and not redriven):
            staged.append(False)
            continue
        seen.add(fingerprint)
        _stage(rows, record, error, fingerprint, topic, now, redrives)
        staged.append(True)
    return staged


def _stage(rows: dict[str, list[dict]], record: FeedRecord, error: InvalidRecord, fingerprint: str, topic: str,
           now: datetime, redrives: int) -> None:
    """The dead-letter row and its envelope on `topic`; a re-driven record's envelope has an id of its own."""
    event = DeadLetterV1(
        event_id=fact_id("dead_letter", f"{fingerprint}:{redrives}" if redrives else fingerprint),
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
        "redrives": redrives,
    })
    headers = {"fengqiao-dead-letter-reason": error.reason.value}
    rows.setdefault("outbox", []).append(
        ledger.outbox_row(str(event.event_id), topic, record.key, event.model_dump_json().encode(), headers, now)
    )


def redrive(conn: Connection, fingerprint: str, user_id: str, now: datetime) -> str:
    """重投: send a dead letter's bytes back to the topic they came from, in the caller's transaction.

    `redriven`, `unknown`, or `waiting` when it was re-driven already and not read back since.
    """
    row = ledger.dead_letter_for_update(conn, fingerprint)
    if row is None:
        return "unknown"
    if row["redriven_at"] is not None:
        return "waiting"
    event_id = fact_id("redrive", f"{fingerprint}:{row['redrives']}")
    ledger.add_rows(conn, {"outbox": [ledger.outbox_row(str(event_id), row["source_topic"], None, row["payload"],
                                                        {"fengqiao-redrive": fingerprint}, now)]})
    ledger.mark_redriven(conn, fingerprint, user_id, now)
    return "redriven"
