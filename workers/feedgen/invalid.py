"""Invalid feed records, one kind per DeadLetterReason.

Each fails only at its own step of the worker's reading order: size > MAX_RECORD_BYTES,
then strict UTF-8 decoding, then JSON, then the IncidentV1 schema. Every record's bytes
are distinct (each carries its own id or random bytes), so dead-letter de-duplication
by fingerprint never merges two.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from router.domain.jurisdiction import Jurisdiction
from schemas.deadletter import DeadLetterReason
from workers.feedgen import texts
from workers.feedgen.draw import Draws, Weighted
from workers.feedgen.sample import MAX_RECORD_BYTES, encode

REASONS = Weighted(((DeadLetterReason.SCHEMA_VIOLATION, 40), (DeadLetterReason.NOT_JSON, 25),
                    (DeadLetterReason.BAD_ENCODING, 20), (DeadLetterReason.OVERSIZE, 15)))


class InvalidRecords:
    """Breaks valid records of one jurisdiction in the ways real feeds do, drawing from `rng`."""

    def __init__(self, jurisdiction: Jurisdiction, rng: Draws) -> None:
        self._rng = rng
        county = jurisdiction.district_code[:6]  # never 9 or 12 digits, so never a valid town_code
        self._bad_town_codes = (jurisdiction.district_name, f"{county}00", f"{county}-004", f"{county}1")

    def make(self, reason: DeadLetterReason, record: dict, received_at: datetime) -> tuple[bytes, bool]:
        """(the record's bytes, broken for `reason`; whether they still carry its source_id)."""
        if reason is DeadLetterReason.OVERSIZE:
            return self._oversize(record), True
        if reason is DeadLetterReason.BAD_ENCODING:
            value, garbage = self._bad_encoding(record)
            return value, not garbage
        if reason is DeadLetterReason.NOT_JSON:
            return self._not_json(record), True
        return self._schema_violation(record, received_at)

    def _oversize(self, record: dict) -> bytes:
        rng = self._rng
        if rng.random() < 0.6:  # a photo pasted into the record
            record["image_base64"] = base64.b64encode(rng.randbytes(rng.between(49_500, 60_000))).decode()
        else:  # a whole call transcript as the summary
            line = texts.TRANSCRIPT_LINE.format(record["summary"])
            record["summary"] = line * (MAX_RECORD_BYTES // len(line.encode()) + 1 + rng.between(0, 20))
        value = encode(record).encode()
        assert len(value) > MAX_RECORD_BYTES
        return value

    def _bad_encoding(self, record: dict) -> tuple[bytes, bool]:
        """(bytes that are not UTF-8, whether they are garbage without a usable id)."""
        rng = self._rng
        roll = rng.random()
        text = encode(record)
        garbage = False
        if roll < 0.45:  # a legacy system sending GBK
            value = text.encode("gbk", errors="replace")
        elif roll < 0.7:  # one byte of a multi-byte character lost in transit
            raw = text.encode()
            leads = [i for i in range(len(raw) - 3) if raw[i] >= 0xE0]
            i = rng.item(leads)
            value = raw[: i + 1] + raw[i + 2:]
        elif roll < 0.85:  # a Windows export in UTF-16
            value = text.encode("utf-16")
        else:  # a binary frame (schema-registry Avro) on the wrong topic
            value = b"\x00\x00\x00\x00\x07" + rng.randbytes(12) + b"\xff\xfe" + rng.randbytes(24)
            garbage = True
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return value, garbage
        return value + b"\xff", garbage  # pragma: no cover - GBK that happens to be UTF-8

    def _not_json(self, record: dict) -> bytes:
        rng = self._rng
        roll = rng.random()
        text = encode(record)
        if roll < 0.35:  # cut off mid-record (at a character boundary, so still UTF-8)
            return text[: rng.randrange(max(80, len(text) // 3), len(text) - 1)].encode()
        if roll < 0.5:  # two records glued together
            return (text + "\n{").encode()
        if roll < 0.65:
            return (f"<incident><id>{record['source_id']}</id><time>{record['received_at']}</time>"
                    f"<summary>{record['summary']}</summary></incident>").encode()
        if roll < 0.8:
            return "|".join((record["source_id"], record["received_at"], record["channel"], record["summary"],
                             record.get("address", ""))).encode()
        if roll < 0.9:  # a Python dict printed instead of serialised
            return repr(record).replace('"', "'").encode()
        return ("{" + ",".join(f"{k}:{json.dumps(v, ensure_ascii=False)}" for k, v in record.items()) + "}").encode()

    def _schema_violation(self, record: dict, received_at: datetime) -> tuple[bytes, bool]:
        """(a JSON record IncidentV1 rejects, whether it still carries its source_id)."""
        rng = self._rng
        keeps_id = True
        variant = int(rng.random() * 14)
        if variant == 0:
            del record["summary"]
        elif variant == 1:
            del record["received_at"]
        elif variant == 2:
            del record["channel"]
        elif variant == 3:
            del record["source_id"]
            keeps_id = False
        elif variant == 4:
            record["channel"] = rng.item(texts.BAD_CHANNELS)
        elif variant == 5:  # a naive local time: which zone?
            record["received_at"] = received_at.replace(tzinfo=None).isoformat(sep=rng.item("T "))
        elif variant == 6:
            record["received_at"] = texts.LOCAL_TIMESTAMP.format(received_at)
        elif variant == 7:
            record["town_code"] = rng.item(self._bad_town_codes)
        elif variant == 8:
            record["location"] = rng.item(({"lon": 120.3, "lat": 300.0, "datum": "WGS-84"},
                                           {"lon": 120.3, "lat": 30.2, "datum": "BD-09"}))
        elif variant == 9:
            record["remark"] = texts.REMARK.format(record["summary"])
        elif variant == 10:
            line = texts.SUMMARY_REPEAT.format(record["summary"])
            record["summary"] = line * (4000 // len(line) + 1)
        elif variant == 11:
            record["schema"] = "incident.v9"  # a contract that does not exist
        elif variant == 12:
            record["source_id"] = record["source_id"].replace("-", rng.item(texts.BAD_ID_SEPARATORS))
            keeps_id = False
        else:
            record["summary"] = None
        value = encode(record).encode()
        assert len(value) <= MAX_RECORD_BYTES
        return value, keeps_id
