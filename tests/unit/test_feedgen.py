"""The synthetic feed: its ground truth agrees with the real Router, record by record."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from router.bundle import load_bundle
from router.domain.jurisdiction import Boundary, Jurisdiction
from router.domain.routing import Outcome, ReviewReason, Router
from router.wire import InvalidRecord, read_incident, to_domain
from schemas.deadletter import DeadLetterReason
from schemas.incident import Channel, IncidentV1
from workers.feedgen import MAX_RECORD_BYTES, FeedGenerator, Sample, UnsupportedBundle

# Every way a feed record can be unreadable; `unauthenticated` is the command channel's alone.
FEED_REASONS = {r.value for r in DeadLetterReason} - {DeadLetterReason.UNAUTHENTICATED.value}
BUNDLE = Path(__file__).resolve().parents[2] / "jurisdictions" / "xiaoshan"
START = datetime(2026, 11, 3, 7, 45, tzinfo=timezone(timedelta(hours=8)))
SOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


@pytest.fixture(scope="module")
def jurisdiction() -> Jurisdiction:
    return load_bundle(BUNDLE)


@pytest.fixture(scope="module")
def real_router(jurisdiction: Jurisdiction) -> Router:
    return Router(jurisdiction)


def _failure(value: bytes, jurisdiction: Jurisdiction) -> str | None:
    """The dead-letter reason the worker gives a record; None when it reads."""
    try:
        read_incident(value, MAX_RECORD_BYTES, jurisdiction)
    except InvalidRecord as error:
        return error.reason.value
    return None


def _routed(router: Router, sample: Sample) -> tuple:
    record = IncidentV1.model_validate_json(sample.value)
    decision = router.route(to_domain(record))
    reason = decision.review_reason.value if decision.review_reason else None
    return decision.outcome.value, decision.town_code, decision.centre_code, reason


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2026])
def test_every_sample_ends_where_its_ground_truth_says(seed, jurisdiction, real_router):
    samples = FeedGenerator(jurisdiction, seed=seed).batch(1000, START, timedelta(seconds=7))
    wrong = []
    for sample in samples:
        e = sample.expected
        want = (e.outcome, e.town_code, e.centre_code, e.reason)
        if e.outcome == "dead_letter":
            got = ("dead_letter", None, None, _failure(sample.value, jurisdiction))
        else:
            assert _failure(sample.value, jurisdiction) is None
            assert sample.key == sample.source_id.encode()
            got = _routed(real_router, sample)
        if got != want:
            wrong.append((want, got, sample.value[:400].decode("utf-8", "replace")))
    assert not wrong, f"{len(wrong)} samples disagree with the Router, e.g. {wrong[:5]}"


def test_invalid_records_fail_at_their_own_step_and_are_distinct(jurisdiction):
    samples = FeedGenerator(jurisdiction, seed=3, invalid_share=1.0).batch(2000, START)
    reasons = Counter()
    for sample in samples:
        assert sample.expected.outcome == "dead_letter"
        assert sample.expected.town_code is None and sample.expected.centre_code is None
        assert _failure(sample.value, jurisdiction) == sample.expected.reason, sample.value[:200]
        if sample.expected.reason != DeadLetterReason.OVERSIZE:
            assert len(sample.value) <= MAX_RECORD_BYTES
        if sample.key is not None:
            assert sample.key == sample.source_id.encode()
        else:
            assert sample.source_id is None
        reasons[sample.expected.reason] += 1
    assert set(reasons) == FEED_REASONS
    assert min(reasons.values()) >= 100, reasons
    assert len({s.value for s in samples}) == len(samples), "dead-letter de-duplication would merge two"


def test_the_mix_of_outcomes(jurisdiction):
    samples = FeedGenerator(jurisdiction, seed=0).batch(10_000, START)
    n = len(samples)
    outcomes = Counter(s.expected.outcome for s in samples)
    assert 0.33 <= outcomes["police"] / n <= 0.39, outcomes
    assert 0.49 <= outcomes["work_order"] / n <= 0.55, outcomes
    assert 0.07 <= outcomes["review"] / n <= 0.10, outcomes
    assert 0.02 <= outcomes["dead_letter"] / n <= 0.04, outcomes
    assert {s.expected.reason for s in samples if s.expected.outcome == "review"} == {r.value for r in ReviewReason}
    assert {s.expected.reason for s in samples if s.expected.outcome == "dead_letter"} == FEED_REASONS
    assert set(outcomes) == {o.value for o in Outcome} | {"dead_letter"}

    orders = [s.expected for s in samples if s.expected.outcome == "work_order"]
    assert {e.town_code for e in orders} == {t.code for t in jurisdiction.towns}, "every town gets orders"
    to_district = sum(e.centre_code == jurisdiction.district_centre.code for e in orders)
    assert 0 < to_district < len(orders), "both onboarded towns and the district fallback occur"

    records = [json.loads(s.value) for s in samples if s.expected.outcome != "dead_letter"]
    share = lambda key: sum(key in r for r in records) / len(records)  # noqa: E731
    assert 0.2 < share("location") < 0.4
    assert 0.1 < share("category_code") < 0.5
    assert 0.05 < share("town_code") < 0.3
    assert 0.6 < share("caller") < 0.9
    assert {r["channel"] for r in records} == {c.value for c in Channel}
    assert {r["location"]["datum"] for r in records if "location" in r} == {"GCJ-02", "WGS-84"}
    for r in records:
        if "location" in r:
            assert 120.1 <= r["location"]["lon"] <= 120.7 and 29.9 <= r["location"]["lat"] <= 30.4


def test_source_ids_are_unique_valid_and_keyed(jurisdiction):
    samples = FeedGenerator(jurisdiction, seed=12, id_prefix="DEMO").batch(5000, START)
    ids = [s.source_id for s in samples if s.source_id is not None]
    assert len(ids) == len(set(ids)) > 4900
    assert all(SOURCE_ID.match(i) and len(i) <= 64 and i.startswith("DEMO12-") for i in ids)
    assert samples[0].source_id == "DEMO12-00000001"
    assert all(s.key == s.source_id.encode() for s in samples if s.expected.outcome != "dead_letter")


def test_the_same_seed_gives_the_same_feed(jurisdiction):
    a = FeedGenerator(jurisdiction, seed=5).batch(500, START)
    b = FeedGenerator(jurisdiction, seed=5).batch(500, START)
    c = FeedGenerator(jurisdiction, seed=6).batch(500, START)
    assert a == b
    assert [s.value for s in a] != [s.value for s in c]
    one_by_one = FeedGenerator(jurisdiction, seed=5)
    assert [one_by_one.sample(START + timedelta(seconds=i)) for i in range(500)] == a


def test_invalid_share_bounds_and_arguments(jurisdiction):
    none = FeedGenerator(jurisdiction, invalid_share=0).batch(2000, START)
    assert all(s.expected.outcome != "dead_letter" for s in none)
    only = FeedGenerator(jurisdiction, invalid_share=1).batch(200, START)
    assert all(s.expected.outcome == "dead_letter" for s in only)
    with pytest.raises(ValueError):
        FeedGenerator(jurisdiction, invalid_share=1.5)
    with pytest.raises(ValueError):
        FeedGenerator(jurisdiction, id_prefix="警情")
    with pytest.raises(ValueError):
        FeedGenerator(jurisdiction).sample(datetime(2026, 11, 3, 8, 0))


def test_a_bundle_in_another_language_is_refused_by_name():
    """Chinese texts routed by English rules are unclear (police): the truth written beside them would be wrong."""
    with pytest.raises(UnsupportedBundle, match="bundle port-alder has no rule term in Chinese"):
        FeedGenerator(load_bundle(BUNDLE.parent / "port-alder"))


def test_received_at_is_the_given_instant(jurisdiction):
    samples = FeedGenerator(jurisdiction, seed=9, invalid_share=0).batch(3, START, timedelta(minutes=2))
    times = [IncidentV1.model_validate_json(s.value).received_at for s in samples]
    assert times == [START, START + timedelta(minutes=2), START + timedelta(minutes=4)]


def test_no_coordinates_once_the_bundle_has_polygons(jurisdiction):
    square = ((120.0, 29.8), (120.8, 29.8), (120.8, 30.5), (120.0, 30.5))
    with_polygons = dataclasses.replace(jurisdiction, boundaries=(Boundary(jurisdiction.towns[0].code, (square,)),))
    samples = FeedGenerator(with_polygons, seed=1, invalid_share=0).batch(1000, START)
    assert not any("location" in json.loads(s.value) for s in samples)


def test_a_batch_of_a_hundred_thousand_samples(jurisdiction):
    """Its speed is a figure of `make bench` (bench/routing.py prints the generation rate), not a test."""
    samples = FeedGenerator(jurisdiction, seed=42).batch(100_000, START)
    assert len(samples) == 100_000
