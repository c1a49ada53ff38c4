"""The district's inbox: incidents waiting to be placed in a town (待定位), and feed records that could
not be read (死信), listed with their reasons, never with more personal data than the role may see."""

from __future__ import annotations

import json

import pytest

from router.intake import FeedRecord, Intake
from schemas.topics import Topics

pytestmark = pytest.mark.integration


def test_district_roles_see_dead_letters_with_their_reason_and_no_personal_data(api):
    bad_field = json.dumps({"source_id": "DL1", "received_at": "yesterday", "channel": "phone", "summary": "吵架",
                            "caller": {"name": "王小明", "phone": "13912345678"}}, ensure_ascii=False).encode()
    records = [FeedRecord(b"{not json", None, "incidents.v1", 0, 10), FeedRecord(bad_field, None, "incidents.v1", 1, 11)]
    Intake(api.router, api.engine.begin, Topics(), 65_536).handle(records, api.clock())

    rows = api.client("district-dispatcher").get("/api/v1/dead-letters").json()
    assert {(r["reason"], r["reason_name"], r["partition"], r["offset"]) for r in rows} == {
        ("not_json", "非JSON", 0, 10), ("schema_violation", "字段不符合契约", 1, 11)}
    assert all("payload" not in r for r in rows)
    text = json.dumps(rows, ensure_ascii=False)
    assert "13912345678" not in text and "王小明" not in text
    assert "received_at" in next(r["detail"] for r in rows if r["reason"] == "schema_violation")
    exported = api.client("district-supervisor").get("/api/v1/dead-letters", params={"format": "csv"})
    assert exported.status_code == 200 and "字段不符合契约" in exported.text
    assert api.client("xintang-op").get("/api/v1/dead-letters").status_code == 403


def test_district_roles_see_what_waits_to_be_placed_with_its_evidence(api):
    unplaced = json.dumps({"source_id": "RV1", "received_at": api.clock().isoformat(), "channel": "phone",
                           "summary": "楼上邻居装修噪音太大，晚上还在施工", "address": "",
                           "caller": {"name": "王小明", "phone": "13912345678"}}, ensure_ascii=False).encode()
    [routed] = Intake(api.router, api.engine.begin, Topics(), 65_536).handle([FeedRecord(unplaced)], api.clock()).routed
    assert routed.outcome == "review"

    [item] = api.client("district-dispatcher").get("/api/v1/reviews").json()
    assert (item["incident_id"], item["state"], item["reason"], item["reason_name"]) == (
        "RV1", "open", "town_unresolved", "无法定位镇街")
    assert item["matter_type"] == "噪音扰民" and "噪音" in item["summary"]
    assert item["rule_ids"] and item["rule_ids"][0].startswith("non_police.")
    exported = api.client("district-supervisor").get("/api/v1/reviews", params={"format": "csv"})
    assert exported.status_code == 200 and "无法定位镇街" in exported.text
    assert api.client("xintang-op").get("/api/v1/reviews").status_code == 403
