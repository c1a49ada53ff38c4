"""HTTP intake (POST /api/v1/incidents) on PostgreSQL and SQLite: each record's fate, repeats a no-op,
unreadable records dead-lettered as on Kafka while the others are routed, only the district's integration
account admitted, malformed requests refused whole, and the per-account rate limit on the injected clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from api.limits import HttpLimits
from router.domain.lifecycle import Role
from router.store.tables import access_log, dead_letters, incidents, work_orders
from router.wire import InvalidRecord, read_incident
from tests.integration.api_support import ApiUnderTest
from tests.integration.support import fresh_database

pytestmark = pytest.mark.integration

FEED = "district-feed"
LIMITS = HttpLimits(incidents_max_bytes=64 * 1024, incidents_per_batch=5, incident_calls_per_minute=60)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fengqiao.db'}"
        return
    with fresh_database() as url:
        yield url


@pytest.fixture
def make_api(database_url) -> Iterator:
    started: list[ApiUnderTest] = []

    def make(limits: HttpLimits = LIMITS) -> ApiUnderTest:
        """The API with the district's integration account `district-feed` (区110接警系统) besides the demo users."""
        api = ApiUnderTest.start(database_url, limits=limits)
        started.append(api)
        add_district_feed(api, FEED)
        return api

    yield make
    for api in started:
        api.stop()


def add_district_feed(api: ApiUnderTest, user_id: str) -> None:
    api.services.identity.add_user(user_id, "区110接警系统", Role.INTEGRATION,
                                   api.jurisdiction.district_centre.code, None, api.clock())


def incident(api: ApiUnderTest, source_id: str, summary: str = "楼上装修噪音扰民，持续到深夜",
             address: str = "萧山区新塘街道", **extra: object) -> dict:
    return {"source_id": source_id, "received_at": api.clock().isoformat(), "channel": "phone", "summary": summary,
            "address": address, "caller": {"name": "王小明", "phone": "13912345678"}, **extra}


def count(api: ApiUnderTest, table, *where) -> int:
    with api.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def kafka_reason(record: object, api: ApiUnderTest) -> str:
    """The dead-letter reason the Kafka path gives the same record."""
    raw = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    with pytest.raises(InvalidRecord) as refused:
        read_incident(raw, api.services.max_record_bytes, api.jurisdiction)
    return refused.value.reason.value


def test_a_batch_answers_each_records_fate_and_dead_letters_the_unreadable(make_api):
    api = make_api()
    bad_time = {**incident(api, "H3"), "received_at": "yesterday"}
    no_summary = {k: v for k, v in incident(api, "H4").items() if k != "summary"}
    batch = [incident(api, "H1"), incident(api, "H2", "两名男子在饭店门口打架"), bad_time, no_summary,
             incident(api, "H5", "楼上邻居装修噪音太大，晚上还在施工", address="")]
    response = api.token_client(FEED).post("/api/v1/incidents", json=batch)

    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (3, 0, 2)
    fates = [(r["index"], r["fate"], r["source_id"], r["outcome"]) for r in answer["records"]]
    assert fates == [(0, "accepted", "H1", "work_order"), (1, "accepted", "H2", "police"), (2, "rejected", None, None),
                     (3, "rejected", None, None), (4, "accepted", "H5", "review")]
    order_id = answer["records"][0]["order_id"]
    assert order_id and count(api, work_orders, work_orders.c.order_id == order_id) == 1
    # Rejected with the Kafka path's reason and field errors, and kept as dead letters.
    rejected = {r["index"]: r for r in answer["records"] if r["fate"] == "rejected"}
    for index, field in ((2, "received_at"), (3, "summary")):
        assert rejected[index]["reason"] == kafka_reason(batch[index], api) == "schema_violation"
        assert [e["field"] for e in rejected[index]["errors"]] == [field]
        assert rejected[index]["dead_lettered"] is True
    assert count(api, dead_letters, dead_letters.c.reason == "schema_violation",
                 dead_letters.c.source_topic == api.services.topics.incidents) == 2
    assert count(api, incidents) == 3
    assert "13912345678" not in response.text and "王小明" not in response.text


def test_a_single_record_is_a_batch_of_one(make_api):
    api = make_api()
    response = api.token_client(FEED).post("/api/v1/incidents", json=incident(api, "S1"))
    assert response.status_code == 202, response.text
    [fate] = response.json()["records"]
    assert (fate["index"], fate["fate"], fate["source_id"], fate["outcome"]) == (0, "accepted", "S1", "work_order")


def test_what_an_incident_v2_adds_is_kept_and_shown_with_the_order_masked_by_role(make_api):
    api = make_api()
    record = incident(api, "V2-1", schema="incident.v2", channel="emergency_line", priority="P2",
                      disposition="advised", officer_initiated=True,
                      attributes={"beat": "523", "units_sent": 2, "note": "王小明 回电 13912345678"})
    response = api.token_client(FEED).post("/api/v1/incidents", json=record)
    assert response.status_code == 202, response.text
    [fate] = response.json()["records"]

    def shown(user: str) -> dict:
        detail = api.client(user).get(f"/api/v1/orders/{fate['order_id']}")
        assert detail.status_code == 200, detail.text
        [feed] = detail.json()["incidents"]
        return feed

    operator = shown("xintang-op")
    assert {k: operator[k] for k in ("incident_id", "contract", "channel", "channel_name", "feed_priority",
                                      "disposition", "officer_initiated")} == {
        "incident_id": "V2-1", "contract": "incident.v2", "channel": "emergency_line", "channel_name": "紧急呼叫线路",
        "feed_priority": "P2", "disposition": "advised", "officer_initiated": True}
    assert operator["attributes"] == {"beat": "523", "units_sent": 2, "note": "王小明 回电 13912345678"}
    # A leader sees no callers: the feed's free text is masked like the summary.
    assert shown("xintang-leader")["attributes"] == {"beat": "523", "units_sent": 2, "note": "王** 回电 139****5678"}


def test_a_repeated_source_id_is_a_duplicate_within_a_batch_and_across_calls(make_api):
    api = make_api()
    feed = api.token_client(FEED)
    bad = {**incident(api, "R9"), "received_at": "yesterday"}
    first = feed.post("/api/v1/incidents", json=[incident(api, "R1"), incident(api, "R1"), bad]).json()
    assert [r["fate"] for r in first["records"]] == ["accepted", "duplicate", "rejected"]
    again = feed.post("/api/v1/incidents", json=[incident(api, "R1"), bad, incident(api, "R2")]).json()
    assert [(r["fate"], r["source_id"]) for r in again["records"]] == [
        ("duplicate", "R1"), ("rejected", None), ("accepted", "R2")]
    # The same bad bytes are dead-lettered once; the answer still names their reason.
    assert again["records"][1]["dead_lettered"] is False and again["records"][1]["reason"] == "schema_violation"
    assert count(api, incidents, incidents.c.incident_id == "R1") == 1
    assert count(api, incidents) == 2
    assert count(api, dead_letters) == 1


AUTHORIZATION = [
    pytest.param("token", FEED, 202, id="district-integration-token"),
    pytest.param("token", "xintang-system", 403, id="town-integration-token"),
    pytest.param("session", "district-dispatcher", 403, id="dispatcher-console-session"),
    pytest.param("session", "admin", 403, id="admin-console-session"),
    pytest.param("bearer", "fq_not-a-real-token", 401, id="unknown-token"),
    pytest.param(None, None, 401, id="anonymous"),
]


@pytest.mark.parametrize(("how", "who", "status"), AUTHORIZATION)
def test_only_the_districts_integration_account_may_submit(make_api, how, who, status):
    api = make_api()
    client = {"token": lambda: api.token_client(who), "session": lambda: api.client(who),
              "bearer": lambda: httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {who}"}),
              None: lambda: api.client()}[how]()
    response = client.post("/api/v1/incidents", json=[incident(api, "A1")])

    assert response.status_code == status, response.text
    if status != 202:
        assert response.json()["code"] in ("forbidden", "unauthenticated")
        assert count(api, incidents) == 0 and count(api, dead_letters) == 0
    with api.engine.connect() as conn:
        [row] = conn.execute(select(access_log).where(access_log.c.action == "incidents.submit")).all()
    assert row.status == status and row.outcome == ("allowed" if status == 202 else "denied")
    if status == 202:
        assert row.user_id == FEED and row.detail == "1 records: 1 accepted, 0 duplicate, 0 rejected"


MALFORMED = [
    pytest.param(b"{not json", 400, "not_json", id="not-json"),
    pytest.param(b"\xff\xfe{}", 400, "not_json", id="not-utf8"),
    pytest.param(b'"a string"', 422, "not_records", id="a-string"),
    pytest.param(b"42", 422, "not_records", id="a-number"),
    pytest.param(b"[]", 422, "empty_batch", id="empty-list"),
    pytest.param(json.dumps([{}] * 6).encode(), 422, "batch_too_large", id="past-the-batch-cap"),
    pytest.param(b"[" + b'"x",' * 20_000 + b'"x"]', 413, "request_too_large", id="past-the-body-cap"),
]


@pytest.mark.parametrize(("body", "status", "code"), MALFORMED)
def test_a_malformed_request_is_refused_whole_and_changes_nothing(make_api, body, status, code):
    api = make_api()
    response = api.token_client(FEED).post("/api/v1/incidents", content=body,
                                           headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["detail"]
    assert count(api, incidents) == 0 and count(api, dead_letters) == 0
    assert count(api, access_log, access_log.c.status == status) == 1


def test_the_batch_cap_admits_a_full_batch(make_api):
    api = make_api()
    batch = [incident(api, f"C{i}") for i in range(LIMITS.incidents_per_batch)]
    response = api.token_client(FEED).post("/api/v1/incidents", json=batch)
    assert response.status_code == 202 and response.json()["accepted"] == LIMITS.incidents_per_batch


def test_calls_are_rate_limited_per_account_on_the_engines_clock(make_api):
    api = make_api(HttpLimits(incident_calls_per_minute=2))
    add_district_feed(api, "district-feed-2")
    feed, other = api.token_client(FEED), api.token_client("district-feed-2")
    assert [feed.post("/api/v1/incidents", json=incident(api, f"L{i}")).status_code for i in range(2)] == [202, 202]

    refused = feed.post("/api/v1/incidents", json=incident(api, "L2"))
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "30"  # one call of two a minute comes back in 30 s
    assert count(api, incidents, incidents.c.incident_id == "L2") == 0
    assert other.post("/api/v1/incidents", json=incident(api, "M0")).status_code == 202  # its own bucket

    api.clock.advance(timedelta(seconds=29))
    assert feed.post("/api/v1/incidents", json=incident(api, "L2")).status_code == 429
    api.clock.advance(timedelta(seconds=2))
    assert feed.post("/api/v1/incidents", json=incident(api, "L2")).status_code == 202
