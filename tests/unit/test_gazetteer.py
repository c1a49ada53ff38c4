"""Town resolver tables on the real Xiaoshan gazetteer, and polygon cases on the fake jurisdiction."""

from __future__ import annotations

import pytest

from router.domain.gazetteer import Method, Placement, TownResolver
from router.domain.incident import Datum, Point
from router.domain.jurisdiction import Boundary

R, A, U, O = Placement.RESOLVED, Placement.AMBIGUOUS, Placement.UNRESOLVED, Placement.OUTSIDE
CODE, ADDR, SUMM, NONE, POLY = Method.EXPLICIT_CODE, Method.ADDRESS, Method.SUMMARY, Method.NONE, Method.POLYGON

CHENGXIANG, BEIGAN, XINTANG, NANYANG = "330109001", "330109002", "330109004", "330109006"
XINJIE, LOUTA, HESHANG, DAICUN = "330109014", "330109100", "330109101", "330109102"
PUYANG, JINHUA, LINPU, GUALI = "330109103", "330109104", "330109105", "330109113"
KAIFAQU, SHIJICHENG = "330109401", "330109505"

# The five village names shared by two towns (gazetteer.csv).
SHARED = {
    "紫霞村": (XINTANG, HESHANG),
    "东风村": (NANYANG, DAICUN),
    "江南村": (XINJIE, PUYANG),
    "东山村": (HESHANG, JINHUA),
    "新港村": (LINPU, GUALI),
}

CASES = [
    # (town_code, address, summary, placement, method, town, candidates)
    # explicit codes
    pytest.param(XINTANG, "", "", R, CODE, XINTANG, (), id="code-town"),
    pytest.param("330109004235", "", "", R, CODE, XINTANG, (), id="code-village-12-digit"),
    pytest.param("330109004008", "", "", R, CODE, XINTANG, (), id="code-retired-community"),
    pytest.param(XINTANG, "河上镇紫霞村", "", R, CODE, XINTANG, (), id="code-beats-text"),
    pytest.param("330106002", "", "", O, CODE, None, (), id="code-outside-town-xihu"),
    pytest.param("330108", "", "", O, CODE, None, (), id="code-outside-district-binjiang"),
    pytest.param("330106002", "新塘街道", "", O, CODE, None, (), id="code-outside-beats-text"),
    pytest.param("330109999", "城厢街道人民路", "", R, ADDR, CHENGXIANG, (), id="code-unknown-falls-through"),
    pytest.param("330109", "瓜沥镇", "", R, ADDR, GUALI, (), id="code-district-falls-through"),
    # town names
    pytest.param(None, "城厢街道人民路88号", "", R, ADDR, CHENGXIANG, (), id="town-street"),
    pytest.param(None, "浙江省杭州市萧山区瓜沥镇", "", R, ADDR, GUALI, (), id="town-zhen-with-district-prefix"),
    pytest.param(None, "瓜沥镇航民村", "", R, ADDR, GUALI, (), id="town-and-own-village"),
    # villages unique to one town
    pytest.param(None, "荣庄村委会", "", R, ADDR, BEIGAN, (), id="village-full-name"),
    pytest.param(None, "荣庄村12组", "", R, ADDR, BEIGAN, (), id="village-short-form"),
    pytest.param(None, "管村", "", R, ADDR, LOUTA, (), id="village-short-form-no-double-cun"),
    # shared village names
    *(
        pytest.param(None, f"{name}3组", "", A, ADDR, None, towns, id=f"shared-{name}-alone")
        for name, towns in SHARED.items()
    ),
    pytest.param(None, "新塘街道紫霞村", "", R, ADDR, XINTANG, (), id="shared-紫霞村-xintang"),
    pytest.param(None, "河上镇紫霞村", "", R, ADDR, HESHANG, (), id="shared-紫霞村-heshang"),
    pytest.param(None, "南阳街道东风村", "", R, ADDR, NANYANG, (), id="shared-东风村-nanyang"),
    pytest.param(None, "戴村镇东风村", "", R, ADDR, DAICUN, (), id="shared-东风村-daicun"),
    pytest.param(None, "浦阳镇江南村", "", R, ADDR, PUYANG, (), id="shared-江南村-puyang"),
    pytest.param(None, "进化镇东山村", "", R, ADDR, JINHUA, (), id="shared-东山村-jinhua"),
    pytest.param(None, "瓜沥镇新港村", "", R, ADDR, GUALI, (), id="shared-新港村-guali"),
    pytest.param(None, "瓜沥镇紫霞村", "", A, ADDR, None, (XINTANG, HESHANG, GUALI), id="shared-wrong-town"),
    pytest.param(None, "临浦镇东山村", "", A, ADDR, None, (HESHANG, JINHUA, LINPU), id="shared-wrong-town-2"),
    # renamed and retired
    pytest.param(None, "戴村镇中心社区", "", R, ADDR, DAICUN, (), id="former-name-with-town"),
    pytest.param(None, "中心社区", "", R, ADDR, DAICUN, (), id="former-name-alone"),
    pytest.param(None, "凌溪社区", "", R, ADDR, DAICUN, (), id="current-name-of-renamed"),
    pytest.param(None, "商城社区5幢", "", R, ADDR, XINTANG, (), id="retired-community"),
    pytest.param(None, "新塘街道商城社区", "", R, ADDR, XINTANG, (), id="retired-community-with-town"),
    # other Hangzhou districts
    pytest.param(None, "滨江区西兴街道", "", O, ADDR, None, (), id="outside-binjiang-xixing"),
    pytest.param(None, "钱塘区河庄街道", "", O, ADDR, None, (), id="outside-qiantang-hezhuang"),
    pytest.param(None, "河庄街道建设一路", "", O, ADDR, None, (), id="outside-hezhuang-alone"),
    pytest.param(None, "杭州市萧山区河庄街道", "", O, ADDR, None, (), id="outside-hezhuang-old-prefix"),
    pytest.param(None, "义蓬街道", "", O, ADDR, None, (), id="outside-yipeng"),
    pytest.param(None, "新塘街道上城区", "", A, ADDR, None, (XINTANG,), id="inside-and-outside-ambiguous"),
    # conflicting evidence
    pytest.param(None, "新塘街道荣庄村", "", A, ADDR, None, (BEIGAN, XINTANG), id="town-vs-other-towns-village"),
    pytest.param(None, "城厢街道瓜沥镇", "", A, ADDR, None, (CHENGXIANG, GUALI), id="two-towns"),
    # summary
    pytest.param(None, "", "新塘街道某小区楼下有噪音", R, SUMM, XINTANG, (), id="summary-only"),
    pytest.param(None, "人民路88号", "瓜沥镇航民村村民反映", R, SUMM, GUALI, (), id="address-no-place-summary-names"),
    pytest.param(None, "紫霞村", "新塘街道网格员上报", R, SUMM, XINTANG, (), id="ambiguous-address-summary-picks-candidate"),
    pytest.param(None, "紫霞村", "河上镇村民来电", R, SUMM, HESHANG, (), id="ambiguous-address-summary-picks-other"),
    pytest.param(None, "紫霞村", "瓜沥镇村民来电", A, ADDR, None, (XINTANG, HESHANG), id="ambiguous-address-summary-non-candidate"),
    pytest.param(None, "紫霞村", "滨江区居民来电", A, ADDR, None, (XINTANG, HESHANG), id="ambiguous-address-summary-outside"),
    pytest.param(None, "城厢街道", "瓜沥镇人来电", R, ADDR, CHENGXIANG, (), id="resolved-address-beats-summary"),
    pytest.param(None, "滨江区西兴街道", "新塘街道人来电", O, ADDR, None, (), id="outside-address-beats-summary"),
    # nothing
    pytest.param(None, "", "", U, NONE, None, (), id="nothing"),
    pytest.param(None, "人民路88号", "有人反映问题", U, NONE, None, (), id="no-place-names"),
    pytest.param(None, "萧山区", "", U, NONE, None, (), id="district-name-only"),
    # longest match
    pytest.param(None, "萧山经济技术开发区建设四路", "", R, ADDR, KAIFAQU, (), id="longest-kaifaqu"),
    pytest.param(None, "萧山开发区", "", R, ADDR, KAIFAQU, (), id="alias-kaifaqu"),
    pytest.param(None, "萧山钱江世纪城", "", R, ADDR, SHIJICHENG, (), id="longest-shijicheng"),
    pytest.param(None, "新农都物流中心社区", "", R, ADDR, XINJIE, (), id="longest-beats-former-name-inside"),
    pytest.param(None, "桥南沈村", "", R, ADDR, XINTANG, (), id="longest-beats-short-village-inside"),
    pytest.param(None, "墅上王村", "", R, ADDR, JINHUA, (), id="longest-beats-wangcun-inside"),
    pytest.param(None, "四季花城社区", "", R, ADDR, XINTANG, (), id="longest-beats-huacheng-inside"),
]


@pytest.mark.parametrize(("town_code", "address", "summary", "placement", "method", "town", "candidates"), CASES)
def test_resolve_xiaoshan(resolver: TownResolver, incident, town_code, address, summary, placement, method, town, candidates):
    result = resolver.resolve(incident(summary, address, town_code=town_code))
    assert result.placement is placement
    assert result.method is method
    assert result.town_code == town
    assert result.candidates == tuple(sorted(candidates))
    if placement is R:
        assert result.confidence > 0
    if placement is not R:
        assert result.town_code is None


OUTSIDE_NEVER_INSIDE = ["滨江区西兴街道", "钱塘区河庄街道", "河庄街道", "义蓬街道", "西湖区北山街道", "富阳区东洲街道"]


@pytest.mark.parametrize("address", OUTSIDE_NEVER_INSIDE)
def test_outside_places_are_not_xiaoshan_towns(resolver: TownResolver, incident, address):
    result = resolver.resolve(incident("", address))
    assert result.placement is O
    assert result.town_code is None
    assert result.candidates == ()
    assert result.evidence
    assert all(e.kind == "outside" and not e.code.startswith("330109") for e in result.evidence)


EVIDENCE = [
    # (address, kind, text, code)
    pytest.param("萧山经济技术开发区", "town", "萧山经济技术开发区", KAIFAQU, id="longest-town-name"),
    pytest.param("中心社区", "village", "中心社区", "330109102001", id="former-name"),
    pytest.param("荣庄村", "village", "荣庄村", "330109002207", id="short-form"),
    pytest.param("河庄街道", "outside", "河庄街道", "330114003", id="outside-place"),
]


@pytest.mark.parametrize(("address", "kind", "text", "code"), EVIDENCE)
def test_evidence_names_the_entry(resolver: TownResolver, incident, address, kind, text, code):
    evidence = resolver.resolve(incident("", address)).evidence
    assert [(e.kind, e.text, e.code) for e in evidence] == [(kind, text, code)]


def test_shared_village_evidence_lists_both_entries(resolver: TownResolver, incident):
    result = resolver.resolve(incident("", "紫霞村"))
    assert {(e.code, e.town_codes) for e in result.evidence} == {
        ("330109004235", (XINTANG,)),
        ("330109101236", (HESHANG,)),
    }


def test_summary_rescue_keeps_both_sides_of_the_evidence(resolver: TownResolver, incident):
    result = resolver.resolve(incident("新塘街道网格员上报", "紫霞村"))
    assert [e.kind for e in result.evidence] == ["village", "village", "town"]
    assert result.confidence == pytest.approx(0.8)


def test_explicit_code_evidence(resolver: TownResolver, incident):
    result = resolver.resolve(incident(town_code="330109004235"))
    assert [(e.kind, e.code) for e in result.evidence] == [("code", "330109004235")]
    assert result.confidence == pytest.approx(1.0)


# --- the fake jurisdiction: polygons and names in isolation ------------------------------

TOWN_A, TOWN_B = "900001", "900002"


FAKE_CASES = [
    # (point, town_code, address, placement, method, town, candidates)
    pytest.param(Point(120.25, 30.15), None, "", R, POLY, TOWN_A, (), id="wgs-inside-a"),
    pytest.param(Point(120.35, 30.15), None, "", R, POLY, TOWN_B, (), id="wgs-inside-b"),
    pytest.param(Point(120.25, 30.15), None, "乙镇", R, POLY, TOWN_A, (), id="polygon-beats-address"),
    pytest.param(Point(120.25, 30.15), TOWN_B, "", R, CODE, TOWN_B, (), id="code-beats-polygon"),
    pytest.param(Point(121.00, 31.00), None, "乙镇", R, ADDR, TOWN_B, (), id="no-polygon-falls-to-address"),
    pytest.param(Point(121.00, 31.00), None, "", U, NONE, None, (), id="no-polygon-no-text"),
    pytest.param(None, None, "双桥村", A, ADDR, None, (TOWN_A, TOWN_B), id="shared-village"),
    pytest.param(None, None, "甲街道双桥村", R, ADDR, TOWN_A, (), id="shared-village-with-town"),
    pytest.param(None, None, "杨柳村", R, ADDR, TOWN_B, (), id="former-name"),
    pytest.param(None, None, "老街社区", R, ADDR, TOWN_A, (), id="retired"),
    pytest.param(None, None, "乙镇开发区", R, ADDR, TOWN_B, (), id="alias-longest"),
    pytest.param(None, None, "邻区外街道", O, ADDR, None, (), id="outside"),
    pytest.param(None, None, "演示区", U, NONE, None, (), id="district-only"),
]


@pytest.mark.parametrize(("point", "town_code", "address", "placement", "method", "town", "candidates"), FAKE_CASES)
def test_resolve_fake(fake, incident, point, town_code, address, placement, method, town, candidates):
    result = TownResolver(fake).resolve(incident("", address, point=point, town_code=town_code))
    assert result.placement is placement
    assert result.method is method
    assert result.town_code == town
    assert result.candidates == candidates


# A WGS-84 point 190 m inside 甲街道's east edge; its GCJ-02 reading (about 430 m east) lies in 乙镇.
EDGE_WGS = (120.298, 30.15)
EDGE_GCJ_RAW = (120.302478, 30.147581)  # forward GCJ-02 of EDGE_WGS (test_geo checks it)

DATUM_CASES = [
    pytest.param(Point(*EDGE_GCJ_RAW, Datum.GCJ02), TOWN_A, id="gcj-converted-before-lookup"),
    pytest.param(Point(*EDGE_GCJ_RAW, Datum.WGS84), TOWN_B, id="same-numbers-as-wgs"),
    pytest.param(Point(*EDGE_WGS, Datum.WGS84), TOWN_A, id="true-wgs"),
]


@pytest.mark.parametrize(("point", "town"), DATUM_CASES)
def test_polygon_datum(fake, incident, point, town):
    result = TownResolver(fake).resolve(incident(point=point))
    assert result.placement is R
    assert result.method is POLY
    assert result.town_code == town
    (evidence,) = result.evidence
    assert evidence.kind == "polygon"
    assert evidence.code == town


def test_overlapping_polygons_fall_through_to_text(make_fake, incident):
    whole = ((120.0, 30.0), (121.0, 30.0), (121.0, 31.0), (120.0, 31.0))
    j = make_fake(boundaries=(Boundary(TOWN_A, (whole,)), Boundary(TOWN_B, (whole,))))
    result = TownResolver(j).resolve(incident("", "乙镇", point=Point(120.5, 30.5)))
    assert (result.placement, result.method, result.town_code) == (R, ADDR, TOWN_B)


def test_no_boundaries_ignores_point(make_fake, incident):
    result = TownResolver(make_fake(boundaries=())).resolve(incident("", "甲街道", point=Point(120.35, 30.15)))
    assert (result.method, result.town_code) == (ADDR, TOWN_A)
