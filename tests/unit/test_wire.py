"""Reading feed records: each kind of bad input gets its own dead-letter reason, without personal data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from router.bundle import load_bundle
from router.wire import InvalidRecord, read_incident, read_stored_incident, to_domain
from schemas.deadletter import DeadLetterReason

LIMIT = 65_536
XIAOSHAN = load_bundle(Path(__file__).resolve().parents[2] / "jurisdictions" / "xiaoshan")
GOOD = {
    "source_id": "330109-20261128-0001",
    "received_at": "2026-11-28T21:03:11+08:00",
    "channel": "phone",
    "summary": "楼上装修噪音",
    "address": "新塘街道",
    "caller": {"name": "张伟", "phone": "13800001111"},
}


def _bytes(**changes) -> bytes:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("raw", "reason", "field"),
    [
        pytest.param(b"x" * (LIMIT + 1), DeadLetterReason.OVERSIZE, None, id="oversize"),
        pytest.param(b'{"summary": "\xff\xfe"}', DeadLetterReason.BAD_ENCODING, None, id="latin1-bytes"),
        pytest.param("警情".encode("gbk"), DeadLetterReason.BAD_ENCODING, None, id="gbk-instead-of-utf8"),
        pytest.param(b"not json", DeadLetterReason.NOT_JSON, None, id="not-json"),
        pytest.param(b'{"source_id": "A1",', DeadLetterReason.NOT_JSON, None, id="truncated-json"),
        pytest.param(b"[1, 2]", DeadLetterReason.SCHEMA_VIOLATION, "(record)", id="json-array"),
        pytest.param(_bytes(source_id=...), DeadLetterReason.SCHEMA_VIOLATION, "source_id", id="missing-id"),
        pytest.param(_bytes(received_at="2026-11-28T21:03:11"), DeadLetterReason.SCHEMA_VIOLATION,
                     "received_at", id="time-without-zone"),
        pytest.param(_bytes(received_at=1795957391), DeadLetterReason.SCHEMA_VIOLATION, "received_at",
                     id="unix-seconds"),
        pytest.param(_bytes(received_at=1795957391123.5), DeadLetterReason.SCHEMA_VIOLATION, "received_at",
                     id="unix-milliseconds"),
        pytest.param(_bytes(received_at="1795957391"), DeadLetterReason.SCHEMA_VIOLATION, "received_at",
                     id="unix-seconds-as-text"),
        pytest.param(_bytes(channel="pigeon"), DeadLetterReason.SCHEMA_VIOLATION, "channel", id="bad-channel"),
        pytest.param(_bytes(colour="red"), DeadLetterReason.SCHEMA_VIOLATION, "colour", id="unknown-field"),
        pytest.param(_bytes(source_id="id with spaces"), DeadLetterReason.SCHEMA_VIOLATION, "source_id",
                     id="bad-id"),
        pytest.param(_bytes(location={"lon": 200, "lat": 30}), DeadLetterReason.SCHEMA_VIOLATION,
                     "location.lon", id="bad-longitude"),
        pytest.param(_bytes(town_code="12345"), DeadLetterReason.SCHEMA_VIOLATION, "town_code",
                     id="town-code-outside-the-bundles-format"),
        pytest.param(_bytes(town_code="beat 12"), DeadLetterReason.SCHEMA_VIOLATION, "town_code",
                     id="town-code-outside-the-contracts-characters"),
        pytest.param(_bytes(caller={"phone": "1" * 40}), DeadLetterReason.SCHEMA_VIOLATION, "caller.phone",
                     id="caller-phone-too-long"),
    ],
)
def test_each_kind_of_bad_input_has_its_reason(raw: bytes, reason: DeadLetterReason, field: str | None):
    with pytest.raises(InvalidRecord) as caught:
        read_incident(raw, LIMIT, XIAOSHAN)
    assert caught.value.reason is reason
    assert caught.value.detail
    if field is not None:
        assert field in [f for f, _ in caught.value.errors]


def test_rejection_detail_names_fields_but_never_echoes_personal_data():
    with pytest.raises(InvalidRecord) as caught:
        read_incident(_bytes(caller={"phone": "13800001111" * 4}), LIMIT, XIAOSHAN)
    assert "caller.phone" in caught.value.detail
    assert "13800001111" not in caught.value.detail


def test_a_valid_record_becomes_a_domain_incident():
    record = read_incident(_bytes(location={"lon": 120.3, "lat": 30.2, "datum": "GCJ-02"}), LIMIT, XIAOSHAN)
    incident = to_domain(record)
    assert incident.incident_id == GOOD["source_id"]
    assert incident.point is not None and incident.point.datum.value == "GCJ-02"
    assert incident.received_at.utcoffset().total_seconds() == 8 * 3600


@pytest.mark.parametrize(
    ("pattern", "code", "reads"),
    [
        pytest.param(r"^[0-9]{9}([0-9]{3})?$", "330109001", True, id="nbs-town"),
        pytest.param(r"^[0-9]{9}([0-9]{3})?$", "330109001001", True, id="nbs-village"),
        pytest.param(r"^[0-9]{9}([0-9]{3})?$", "330109", False, id="nbs-six-digits"),
        pytest.param(r"^[0-9]{9}([0-9]{3})?$", "B12", False, id="nbs-us-beat"),
        pytest.param(r"^B[0-9]{1,3}$", "B12", True, id="beats-us-beat"),
        pytest.param(r"^B[0-9]{1,3}$", "330109001", False, id="beats-nbs-town"),
    ],
)
def test_the_feeds_town_code_is_held_to_the_bundles_unit_code_pattern(pattern: str, code: str, reads: bool):
    jurisdiction = dataclasses.replace(XIAOSHAN, unit_code_pattern=pattern)
    raw = _bytes(town_code=code)
    if reads:
        assert read_incident(raw, LIMIT, jurisdiction).town_code == code
        return
    with pytest.raises(InvalidRecord) as caught:
        read_incident(raw, LIMIT, jurisdiction)
    assert caught.value.reason is DeadLetterReason.SCHEMA_VIOLATION  # the reason names stay; the detail says why
    assert caught.value.detail.startswith("town_code: ")
    assert repr(code) in caught.value.detail and pattern in caught.value.detail
    assert [f for f, _ in caught.value.errors] == ["town_code"]


V2 = {**GOOD, "schema": "incident.v2", "channel": "emergency_line", "priority": "一级", "disposition": "已派警",
      "officer_initiated": True, "attributes": {"beat": "XS-07", "units_sent": 2, "injuries": False, "score": 0.5}}


def test_a_v1_record_reads_as_before_with_or_without_its_schema_field():
    for raw in (_bytes(), _bytes(schema="incident.v1")):
        record = read_incident(raw, LIMIT, XIAOSHAN)
        assert type(record).__name__ == "IncidentV1" and record.schema_ == "incident.v1"
        assert record.model_dump(mode="json", by_alias=True)["channel"] == "phone"
        assert not hasattr(record, "attributes")


def test_a_v2_record_keeps_every_new_field_and_routes_on_the_v1_ones_only():
    record = read_incident(json.dumps(V2, ensure_ascii=False).encode(), LIMIT, XIAOSHAN)
    stored = record.model_dump(mode="json", by_alias=True)
    assert stored["schema"] == "incident.v2" and stored["channel"] == "emergency_line"
    assert (stored["priority"], stored["disposition"], stored["officer_initiated"]) == ("一级", "已派警", True)
    assert stored["attributes"] == {"beat": "XS-07", "units_sent": 2, "injuries": False, "score": 0.5}
    assert read_stored_incident(stored) == record  # what the review desk reads back from `incidents.record`
    v1 = read_incident(_bytes(channel="phone"), LIMIT, XIAOSHAN)
    assert dataclasses.replace(to_domain(record), channel="phone") == to_domain(v1)
    assert to_domain(record).channel == "emergency_line"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"extra": 1}, "extra", id="unknown-top-level-field"),
        pytest.param({"schema": "incident.v1", "channel": "emergency_line"}, "channel", id="emergency-line-is-v2-only"),
        pytest.param({"schema": "incident.v1", "attributes": {"a": "b"}}, "attributes", id="v2-field-in-a-v1-record"),
        pytest.param({"schema": "incident.v3"}, "schema", id="unknown-version"),
        pytest.param({"attributes": {f"k{n}": n for n in range(33)}}, "attributes", id="too-many-attributes"),
        pytest.param({"attributes": {"k": "x" * 501}}, "attributes.k.constrained-str", id="attribute-string-too-long"),
        pytest.param({"attributes": {"bad key": 1}}, "attributes.bad key.[key]", id="attribute-key-outside-pattern"),
        pytest.param({"attributes": {"k": {"nested": 1}}}, "attributes.k", id="attribute-not-a-scalar"),
        pytest.param({"attributes": {"k": None}}, "attributes.k", id="attribute-null"),
    ],
)
def test_v2_records_outside_the_contract_are_schema_violations(changes: dict, field: str):
    raw = json.dumps({**V2, **changes}, ensure_ascii=False).encode()
    with pytest.raises(InvalidRecord) as caught:
        read_incident(raw, LIMIT, XIAOSHAN)
    assert caught.value.reason is DeadLetterReason.SCHEMA_VIOLATION
    assert any(f == field or f.startswith(field + ".") for f, _ in caught.value.errors), caught.value.errors
    assert "张伟" not in caught.value.detail and "13800001111" not in caught.value.detail


def test_thirty_two_attributes_are_accepted():
    raw = json.dumps({**V2, "attributes": {f"k{n}": n for n in range(32)}}).encode()
    assert len(read_incident(raw, LIMIT, XIAOSHAN).attributes) == 32
