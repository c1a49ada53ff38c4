"""Publish an incident file (JSONL or CSV) to the feed topic: `fengqiao replay FILE`.

JSONL lines are sent byte for byte, so a bad line reaches the dead-letter topic as it
would from a real feed. CSV rows are turned into `incident.v1` JSON first.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from kafka import KafkaProducer
from tqdm import tqdm

from workers.kafka_security import PLAINTEXT

_LOCATION = ("lon", "lat", "datum")
_CALLER = {"caller_name": "name", "caller_phone": "phone"}


def read_records(path: Path) -> Iterator[tuple[bytes | None, bytes]]:
    """(key, value) per record; the key is the source_id when the record has a readable one."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                record = _csv_row_to_incident(row)
                yield str(record.get("source_id", "")).encode() or None, json.dumps(
                    record, ensure_ascii=False
                ).encode()
        return
    with path.open("rb") as handle:
        for line in handle:
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield _key_of(line), line


def _key_of(line: bytes) -> bytes | None:
    try:
        source_id = json.loads(line).get("source_id")
    except (ValueError, AttributeError):
        return None
    return str(source_id).encode() if source_id else None


def _csv_row_to_incident(row: dict[str, str]) -> dict:
    record: dict = {k: v for k, v in row.items() if v not in ("", None) and k not in _LOCATION and k not in _CALLER}
    if row.get("lon") and row.get("lat"):
        record["location"] = {"lon": float(row["lon"]), "lat": float(row["lat"]),
                              "datum": row.get("datum") or "WGS-84"}
    caller = {field: row[column] for column, field in _CALLER.items() if row.get(column)}
    if caller:
        record["caller"] = caller
    return record


def replay(path: Path, bootstrap: str, topic: str, rate: float = 0.0, progress: bool = True,
           security: Mapping[str, object] = PLAINTEXT) -> int:
    """Send every record of `path` to `topic`, at most `rate` per second (0: as fast as possible)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="fengqiao-replay",
                             bootstrap_timeout_ms=5_000, **security)  # a wrong address is reported in seconds
    sent = 0
    started = time.monotonic()
    try:
        for key, value in tqdm(read_records(path), desc=f"replay → {topic}", unit="rec", disable=not progress):
            producer.send(topic, key=key, value=value)
            sent += 1
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        producer.flush()
    finally:
        producer.close()
    return sent
