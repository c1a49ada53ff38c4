"""The district's inbox: incidents waiting to be placed in a town (待定位), and feed records that could
not be read (死信), listed with their reasons, never with more personal data than the role may see;
placed in a town, merged or marked police by the dispatcher, with who decided in the audit; dead
letters re-driven after a fix."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from router.intake import FeedRecord, Intake
from router.store.tables import access_log, order_events, outbox
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


XINTANG = "330109004"
TOPICS = Topics()


def outbox_rows(api, topic: str) -> list:
    with api.engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.topic == topic).order_by(outbox.c.id)).all()


def test_the_dispatcher_places_a_review_item_and_the_town_works_it(api):
    review_id = api.queue_review("RVP1")
    dispatcher = api.client("district-dispatcher")
    placed = dispatcher.post(f"/api/v1/reviews/{review_id}/place", json={"town_code": XINTANG, "text": "回拨确认在新塘"})
    assert placed.status_code == 200, placed.text
    decision = placed.json()
    assert (decision["state"], decision["state_name"], decision["town_code"]) == ("placed", "已派单", XINTANG)
    order_id = decision["order_id"]

    # The town's operator has it, with the dispatcher's placement on its timeline.
    operator = api.client("xintang-op")
    order = operator.get(f"/api/v1/orders/{order_id}").json()
    assert order["town_code"] == XINTANG and order["state"] == "dispatched"
    assert operator.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    with api.engine.connect() as conn:
        [fact] = conn.execute(select(order_events).where(order_events.c.order_id == order_id,
                                                         order_events.c.kind == "placed")).all()
        [audit] = conn.execute(select(access_log).where(access_log.c.action == "reviews.place")).all()
    assert (fact.actor_user, fact.actor_role, fact.details["review_id"]) == (
        "district-dispatcher", "district_dispatcher", review_id)
    assert audit.user_id == "district-dispatcher" and f"town={XINTANG}" in audit.detail and order_id in audit.detail

    # The dispatched event names the dispatcher as the one who placed it; the review topic hears the outcome.
    [dispatched] = [json.loads(r.value) for r in outbox_rows(api, TOPICS.workorder_events)
                    if json.loads(r.value)["event_type"] == "workorder.dispatched"]
    assert dispatched["decision"]["method"] == "dispatcher"
    assert dispatched["decision"]["placed_by"] == "district-dispatcher"
    assert dispatched["decision"]["review_reason"] == "town_unresolved"
    decided = [json.loads(r.value) for r in outbox_rows(api, TOPICS.review) if b"review.decided" in r.value]
    assert [(d["outcome"], d["order_id"], d["actor"]["user_id"]) for d in decided] == [
        ("placed", order_id, "district-dispatcher")]

    # Decided once: the list moves it out of 待定位, a second decision is refused.
    assert dispatcher.get("/api/v1/reviews").json() == []
    [done] = dispatcher.get("/api/v1/reviews", params={"state": "placed"}).json()
    assert (done["decided_by"], done["town_name"], done["order_id"], done["note"]) == (
        "district-dispatcher", "新塘街道", order_id, "回拨确认在新塘")
    again = dispatcher.post(f"/api/v1/reviews/{review_id}/police", json={})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"


def test_only_the_dispatchers_desk_decides_and_a_bad_town_is_refused(api):
    review_id = api.queue_review("RVP2")
    for user in ("district-supervisor", "xintang-op"):
        refused = api.client(user).post(f"/api/v1/reviews/{review_id}/place", json={"town_code": XINTANG})
        assert refused.status_code == 403, user
    unknown = api.client("district-dispatcher").post(f"/api/v1/reviews/{review_id}/place",
                                                     json={"town_code": "330109999"})
    assert unknown.status_code == 422 and unknown.json()["message"] == "目标镇街不存在"
    missing = api.client("district-dispatcher").post("/api/v1/reviews/RV-none/police", json={})
    assert missing.status_code == 404
    assert [r["review_id"] for r in api.client("district-dispatcher").get("/api/v1/reviews").json()] == [review_id]


def test_a_review_item_marked_police_goes_to_police_dispatch_with_the_decision(api):
    review_id = api.queue_review("RVP3")
    marked = api.client("district-dispatcher").post(f"/api/v1/reviews/{review_id}/police", json={"text": "涉嫌违法"})
    assert marked.status_code == 200 and marked.json()["state"] == "police"
    [forwarded] = outbox_rows(api, TOPICS.police)
    assert json.loads(forwarded.value)["source_id"] == "RVP3"
    decision = json.loads(forwarded.headers["fengqiao-decision"])
    assert (decision["outcome"], decision["verdict"], decision["placed_by"]) == (
        "police", "police", "district-dispatcher")


def test_a_review_item_merged_into_an_open_order_adds_its_caller_there(api):
    order_id = api.open_order()
    review_id = api.queue_review("RVP4")
    dispatcher = api.client("district-dispatcher")
    wrong = dispatcher.post(f"/api/v1/reviews/{review_id}/merge", json={"into": "WO-none"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_merge_target"
    merged = dispatcher.post(f"/api/v1/reviews/{review_id}/merge", json={"into": order_id})
    assert merged.status_code == 200 and (merged.json()["state"], merged.json()["order_id"]) == ("merged", order_id)
    order = api.client("xintang-op").get(f"/api/v1/orders/{order_id}").json()
    assert order["reports"] == 2


def test_a_dead_letter_is_re_driven_after_a_fix_and_dead_lettered_again_if_still_unreadable(api):
    record = json.dumps({"source_id": "DLR1", "received_at": api.clock().isoformat(), "channel": "phone",
                         "summary": "楼上装修噪音扰民", "address": "萧山区新塘街道"}, ensure_ascii=False).encode()
    strict = Intake(api.router, api.engine.begin, TOPICS, 100)  # a size limit too small for the record
    assert strict.handle([FeedRecord(record, None, TOPICS.incidents, 0, 5)], api.clock()).routed[0].outcome == \
        "dead_letter"
    dispatcher = api.client("district-dispatcher")
    [letter] = dispatcher.get("/api/v1/dead-letters").json()
    assert api.client("district-supervisor").post(f"/api/v1/dead-letters/{letter['fingerprint']}/redrive"
                                                  ).status_code == 403
    assert dispatcher.post(f"/api/v1/dead-letters/{letter['fingerprint']}/redrive").status_code == 200
    again = dispatcher.post(f"/api/v1/dead-letters/{letter['fingerprint']}/redrive")
    assert again.status_code == 409 and again.json()["code"] == "already_redriven"
    [sent] = [r for r in outbox_rows(api, TOPICS.incidents)]
    assert sent.value == record and sent.headers["fengqiao-redrive"] == letter["fingerprint"]
    summary = dispatcher.get("/api/v1/inbox").json()
    assert summary["dead_letters_waiting"] == 0

    # Read back before the fix: unreadable again, dead-lettered again, the re-drive counted.
    assert strict.handle([FeedRecord(sent.value, None, TOPICS.incidents, 0, 9)], api.clock()).routed[0].outcome == \
        "dead_letter"
    [letter] = dispatcher.get("/api/v1/dead-letters").json()
    assert (letter["redrives"], letter["redriven_at"], letter["offset"]) == (1, None, 9)
    assert dispatcher.get("/api/v1/inbox").json()["dead_letters_waiting"] == 1
    # After the fix (the limit raised), the re-driven record is routed like any other.
    assert dispatcher.post(f"/api/v1/dead-letters/{letter['fingerprint']}/redrive").status_code == 200
    fixed = Intake(api.router, api.engine.begin, TOPICS, 65_536)
    assert fixed.handle([FeedRecord(record, None, TOPICS.incidents, 0, 12)], api.clock()).routed[0].outcome == \
        "work_order"


def test_the_inbox_summary_counts_what_waits_and_since_when(api):
    assert api.client("district-supervisor").get("/api/v1/inbox").json() == {
        "reviews_waiting": 0, "review_oldest_at": None, "dead_letters_waiting": 0, "dead_letter_oldest_at": None}
    api.queue_review("RVS1")
    summary = api.client("district-supervisor").get("/api/v1/inbox").json()
    assert summary["reviews_waiting"] == 1 and summary["review_oldest_at"].startswith(api.clock().date().isoformat())
    assert api.client("xintang-op").get("/api/v1/inbox").status_code == 403
