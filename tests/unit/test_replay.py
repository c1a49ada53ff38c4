"""Reading incident files for `fengqiao replay`: JSONL byte for byte, CSV turned into incident.v1."""

from __future__ import annotations

import json
from pathlib import Path

from router.bundle import load_bundle
from router.wire import read_incident
from workers.replay import read_records

XIAOSHAN = load_bundle(Path(__file__).resolve().parents[2] / "jurisdictions" / "xiaoshan")


def test_jsonl_lines_are_sent_byte_for_byte_keyed_by_source_id(tmp_path: Path):
    good = json.dumps({"source_id": "A1", "summary": "噪音"}, ensure_ascii=False).encode()
    path = tmp_path / "feed.jsonl"
    path.write_bytes(good + b"\r\n\n{broken\n\xff\xfe\n")

    records = list(read_records(path))

    assert records == [(b"A1", good), (None, b"{broken"), (None, b"\xff\xfe")]


def test_csv_rows_become_valid_incident_records(tmp_path: Path):
    path = tmp_path / "feed.csv"
    path.write_text(
        "source_id,received_at,channel,summary,address,lon,lat,datum,caller_name,caller_phone,category_code\n"
        "C1,2026-11-28T10:00:00+08:00,phone,楼上噪音,新塘街道,120.30,30.17,GCJ-02,张伟,13800001111,\n"
        "C2,2026-11-28T10:05:00+08:00,app,路灯坏了,北干街道,,,,,,91\n",
        encoding="utf-8-sig",  # as Excel and WPS save it
    )

    records = list(read_records(path))

    assert [key for key, _ in records] == [b"C1", b"C2"]
    first = read_incident(records[0][1], 65_536, XIAOSHAN)
    assert first.location is not None and first.location.datum == "GCJ-02" and first.location.lon == 120.30
    assert first.caller is not None and first.caller.phone == "13800001111"
    second = read_incident(records[1][1], 65_536, XIAOSHAN)
    assert second.location is None and second.caller is None and second.category_code == "91"
