"""Routing tables: police, a town work order (own centre or district fallback), or review."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from router.domain.gazetteer import Placement
from router.domain.incident import Point
from router.domain.jurisdiction import Verdict
from router.domain.routing import Outcome, ReviewReason, Router, UnknownKind

DISTRICT_CENTRE = "330109"
XINTANG, CHENGXIANG, GUALI, BEIGAN = "330109004", "330109001", "330109113", "330109002"

WORK_ORDERS = [
    # (summary, address, town_code, town, centre, fallback)
    pytest.param("楼上邻居装修噪音扰民", "新塘街道紫霞村", None, XINTANG, XINTANG, False, id="pilot-xintang-own-centre"),
    pytest.param("小区停水两天", "瓜沥镇航民村", None, GUALI, GUALI, False, id="pilot-guali-own-centre"),
    pytest.param("路灯不亮", "", "330109002207", BEIGAN, BEIGAN, False, id="pilot-by-village-code"),
    pytest.param("楼上邻居装修噪音扰民", "城厢街道人民路", None, CHENGXIANG, DISTRICT_CENTRE, True, id="not-onboarded-chengxiang"),
    pytest.param("老板拖欠工资", "戴村镇中心社区", None, "330109102", DISTRICT_CENTRE, True, id="not-onboarded-daicun"),
    pytest.param("商城社区有流浪狗", "", None, XINTANG, XINTANG, False, id="summary-place-retired-community"),
]


@pytest.mark.parametrize(("summary", "address", "town_code", "town", "centre", "fallback"), WORK_ORDERS)
def test_work_order(router: Router, incident, summary, address, town_code, town, centre, fallback):
    decision = router.route(incident(summary, address, town_code=town_code))
    assert decision.outcome is Outcome.WORK_ORDER
    assert decision.classification.verdict is Verdict.NON_POLICE
    assert decision.resolution is not None and decision.resolution.placement is Placement.RESOLVED
    assert decision.town_code == town
    assert decision.centre_code == centre
    assert decision.fallback_to_district is fallback
    assert decision.review_reason is None


POLICE = [
    # (summary, address, category_code, verdict, placement, town where it happened)
    pytest.param("两人在新塘街道打架", "新塘街道", None, Verdict.POLICE, Placement.RESOLVED, XINTANG,
                 id="police-keywords"),
    pytest.param("讨薪时对方持刀", "新塘街道", None, Verdict.POLICE, Placement.RESOLVED, XINTANG,
                 id="violent-wage-dispute"),
    pytest.param("邻居噪音", "新塘街道", "01", Verdict.POLICE, Placement.RESOLVED, XINTANG, id="police-category"),
    pytest.param("报警人来电后挂断", "新塘街道", None, Verdict.UNCLEAR, Placement.RESOLVED, XINTANG,
                 id="unclear-goes-to-police"),
    pytest.param("", "", None, Verdict.UNCLEAR, Placement.UNRESOLVED, None, id="no-text-goes-to-police"),
    pytest.param("有人打架", "紫霞村", None, Verdict.POLICE, Placement.AMBIGUOUS, None,
                 id="police-with-ambiguous-address"),
    pytest.param("有人打架", "滨江区西兴街道", None, Verdict.POLICE, Placement.OUTSIDE, None,
                 id="police-outside-address"),
]


@pytest.mark.parametrize(("summary", "address", "category_code", "verdict", "placement", "town"), POLICE)
def test_police(router: Router, incident, summary, address, category_code, verdict, placement, town):
    """Police keeps the record; its town is still named (where it happened: 接警 per town), with no centre."""
    decision = router.route(incident(summary, address, category_code=category_code))
    assert decision.outcome is Outcome.POLICE
    assert decision.classification.verdict is verdict
    assert decision.resolution is not None and decision.resolution.placement is placement
    assert decision.town_code == town
    assert decision.centre_code is None
    assert decision.review_reason is None
    assert decision.fallback_to_district is False


REVIEWS = [
    # (address, town_code, reason, placement, candidates)
    pytest.param("紫霞村", None, ReviewReason.TOWN_AMBIGUOUS, Placement.AMBIGUOUS, ("330109004", "330109101"), id="shared-village"),
    pytest.param("瓜沥镇紫霞村", None, ReviewReason.TOWN_AMBIGUOUS, Placement.AMBIGUOUS,
                 ("330109004", "330109101", "330109113"), id="shared-village-wrong-town"),
    pytest.param("人民路88号", None, ReviewReason.TOWN_UNRESOLVED, Placement.UNRESOLVED, (), id="no-place"),
    pytest.param("", None, ReviewReason.TOWN_UNRESOLVED, Placement.UNRESOLVED, (), id="no-address"),
    pytest.param("滨江区西兴街道", None, ReviewReason.OUTSIDE_JURISDICTION, Placement.OUTSIDE, (), id="outside-binjiang"),
    pytest.param("钱塘区河庄街道", None, ReviewReason.OUTSIDE_JURISDICTION, Placement.OUTSIDE, (), id="outside-hezhuang"),
    pytest.param("", "330106002", ReviewReason.OUTSIDE_JURISDICTION, Placement.OUTSIDE, (), id="outside-code"),
]


@pytest.mark.parametrize(("address", "town_code", "reason", "placement", "candidates"), REVIEWS)
def test_review(router: Router, incident, address, town_code, reason, placement, candidates):
    decision = router.route(incident("邻居装修噪音扰民", address, town_code=town_code))
    assert decision.outcome is Outcome.REVIEW
    assert decision.classification.verdict is Verdict.NON_POLICE
    assert decision.review_reason is reason
    assert decision.resolution is not None
    assert decision.resolution.placement is placement
    assert decision.resolution.candidates == candidates
    assert decision.town_code is None
    assert decision.centre_code == DISTRICT_CENTRE
    assert decision.fallback_to_district is False


CARRIED = [
    pytest.param("有人打架", "", id="police"),
    pytest.param("邻居装修噪音", "新塘街道", id="work-order"),
    pytest.param("邻居装修噪音", "紫霞村", id="review"),
]


@pytest.mark.parametrize(("summary", "address"), CARRIED)
def test_bundle_and_incident_are_carried(router: Router, xiaoshan, incident, summary, address):
    decision = router.route(incident(summary, address, incident_id="110-XS-42"))
    assert decision.incident_id == "110-XS-42"
    assert decision.bundle == "xiaoshan" == xiaoshan.name
    assert decision.bundle_version == xiaoshan.version
    assert decision.classification.reason  # every decision says why


# --- the fake jurisdiction ---------------------------------------------------------------

FAKE = [
    # (summary, address, point, outcome, town, centre, fallback, reason)
    pytest.param("噪音", "甲街道", None, Outcome.WORK_ORDER, "900001", "900001", False, None, id="onboarded"),
    pytest.param("噪音", "乙镇", None, Outcome.WORK_ORDER, "900002", "900000", True, None, id="not-onboarded"),
    pytest.param("噪音", "", Point(120.35, 30.15), Outcome.WORK_ORDER, "900002", "900000", True, None, id="by-polygon"),
    pytest.param("噪音", "双桥村", None, Outcome.REVIEW, None, "900000", False, ReviewReason.TOWN_AMBIGUOUS, id="ambiguous"),
    pytest.param("噪音", "", None, Outcome.REVIEW, None, "900000", False, ReviewReason.TOWN_UNRESOLVED, id="unresolved"),
    pytest.param("噪音", "外街道", None, Outcome.REVIEW, None, "900000", False, ReviewReason.OUTSIDE_JURISDICTION, id="outside"),
    pytest.param("打人", "甲街道", None, Outcome.POLICE, "900001", None, False, None, id="police"),
    pytest.param("", "甲街道", None, Outcome.POLICE, "900001", None, False, None, id="unclear"),
]


@pytest.mark.parametrize(("summary", "address", "point", "outcome", "town", "centre", "fallback", "reason"), FAKE)
def test_fake_routing(fake, incident, summary, address, point, outcome, town, centre, fallback, reason):
    router = Router(fake)
    decision = router.route(incident(summary, address, point=point))
    assert router.jurisdiction is fake
    assert decision.outcome is outcome
    assert decision.town_code == town
    assert decision.centre_code == centre
    assert decision.fallback_to_district is fallback
    assert decision.review_reason is reason
    assert (decision.bundle, decision.bundle_version) == ("demo", "2026.1.0")


# --- what the bundle did not know -----------------------------------------------------------

UNKNOWNS = [
    # (summary, category_code, town_code, received_at, outcome, unknowns)
    pytest.param("楼上邻居装修噪音", "06", "330109004", None, Outcome.WORK_ORDER, (), id="all-known"),
    pytest.param("楼上邻居装修噪音", "X9", "330109004", None, Outcome.WORK_ORDER,
                 ((UnknownKind.CATEGORY_CODE, "X9"),), id="unknown-category"),
    pytest.param("有人打架", "X9", None, None, Outcome.POLICE, ((UnknownKind.CATEGORY_CODE, "X9"),),
                 id="unknown-category-police"),
    pytest.param("楼上邻居装修噪音", None, "330109999", None, Outcome.REVIEW,
                 ((UnknownKind.UNIT_CODE, "330109999"),), id="unknown-unit-code"),
    pytest.param("楼上邻居装修噪音 新塘街道", None, "330109999", None, Outcome.WORK_ORDER,
                 ((UnknownKind.UNIT_CODE, "330109999"),), id="unknown-unit-code-found-by-name"),
    pytest.param("楼上邻居装修噪音", None, "330108001", None, Outcome.REVIEW, (), id="outside-code-is-known"),
    pytest.param("楼上邻居装修噪音", None, "330109002207", datetime(2031, 3, 1, 9, tzinfo=UTC), Outcome.WORK_ORDER,
                 ((UnknownKind.RECEIVED_YEAR, "2031"),), id="year-without-calendar"),
    # 2024-12-31 23:30 UTC is 2025-01-01 in Asia/Shanghai: the bundle's zone decides the year.
    pytest.param("楼上邻居装修噪音", None, "330109002207", datetime(2024, 12, 31, 23, 30, tzinfo=UTC),
                 Outcome.WORK_ORDER, (), id="year-in-the-bundles-zone"),
    pytest.param("有人打架", "X9", "9", datetime(2024, 12, 31, 12, tzinfo=UTC), Outcome.POLICE,
                 ((UnknownKind.CATEGORY_CODE, "X9"), (UnknownKind.UNIT_CODE, "9"), (UnknownKind.RECEIVED_YEAR, "2024")),
                 id="all-three"),
]


@pytest.mark.parametrize(("summary", "category_code", "town_code", "received_at", "outcome", "unknowns"), UNKNOWNS)
def test_a_decision_names_what_the_bundle_did_not_know(router: Router, incident, summary, category_code, town_code,
                                                        received_at, outcome, unknowns):
    record = incident(summary, category_code=category_code, town_code=town_code)
    if received_at is not None:
        record = replace(record, received_at=received_at)
    decision = router.route(record)
    assert decision.outcome is outcome
    assert tuple((u.kind, u.value) for u in decision.unknowns) == unknowns
