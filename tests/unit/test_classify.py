"""Classifier tables: police rule families, non-police matter types, negation, exclusions,
feed category codes and the evidence each verdict reports."""

from __future__ import annotations

import pytest

from router.domain.classify import Classifier
from router.domain.jurisdiction import ClassificationRules, Priority, Verdict

P, N, U = Verdict.POLICE, Verdict.NON_POLICE, Verdict.UNCLEAR

# --- police: every rule family in keywords.csv -----------------------------------------

POLICE_FAMILIES = [
    pytest.param("有人站在楼顶说要跳楼", "police.threat_to_life", "危及生命", Priority.URGENT, "跳楼", id="threat_to_life"),
    pytest.param("对方拿着菜刀站在门口", "police.weapon", "持械", Priority.URGENT, "菜刀", id="weapon"),
    pytest.param("两名男子在饭店门口打架", "police.violence", "暴力", Priority.URGENT, "打架", id="violence"),
    pytest.param("报警人称丈夫家暴", "police.domestic_violence", "家庭暴力", Priority.URGENT, "家暴", id="domestic_violence"),
    pytest.param("地铁上有人偷拍女乘客", "police.sexual", "性侵", Priority.URGENT, "偷拍", id="sexual"),
    pytest.param("家中八十岁老人走失", "police.missing", "走失", Priority.URGENT, "走失", id="missing"),
    pytest.param("厂房三楼起火", "police.fire", "火灾", Priority.URGENT, "起火", id="fire"),
    pytest.param("厨房燃气泄漏，味道很重", "police.utility_hazard", "公共设施险情", Priority.URGENT, "燃气泄漏", id="utility_hazard"),
    pytest.param("两车追尾，司机要求处理", "police.traffic", "交通", Priority.HIGH, "追尾", id="traffic"),
    pytest.param("停在楼下的电瓶车被盗", "police.theft_robbery", "盗窃抢劫", Priority.HIGH, "被盗", id="theft"),
    pytest.param("网上刷单被骗两万元", "police.fraud", "诈骗", Priority.HIGH, "刷单", id="fraud"),
    pytest.param("前男友打电话恐吓报警人", "police.threat", "威胁恐吓", Priority.HIGH, "恐吓", id="threat"),
    pytest.param("出租房内有人聚赌", "police.drugs_gambling", "黄赌毒", Priority.HIGH, "聚赌", id="drugs_gambling"),
    pytest.param("数十名工人围堵厂门", "police.crowd", "群体性事件", Priority.URGENT, "围堵", id="crowd"),
    pytest.param("电话里一直喊救命", "police.urgent_help", "紧急求助", Priority.URGENT, "救命", id="urgent_help"),
]


@pytest.mark.parametrize(("summary", "rule_id", "matter_type", "priority", "term"), POLICE_FAMILIES)
def test_police_rule_families(classifier: Classifier, incident, summary, rule_id, matter_type, priority, term):
    result = classifier.classify(incident(summary))
    assert result.verdict is P
    assert result.reason == "police_keywords"
    assert result.rule_ids[0] == rule_id
    assert result.matter_type == matter_type
    assert result.priority is priority
    assert term in result.matched_terms


# --- non-police matter types ------------------------------------------------------------

NON_POLICE_TYPES = [
    pytest.param("楼上邻居家半夜装修噪音太大", "non_police.noise", "噪音扰民", Priority.NORMAL, id="noise"),
    pytest.param("小区广场舞音响声太吵", "non_police.noise", "噪音扰民", Priority.NORMAL, id="noise-square-dance"),
    pytest.param("隔壁漏水到我家天花板", "non_police.neighbour", "邻里纠纷", Priority.NORMAL, id="neighbour"),
    pytest.param("婆媳为家务事闹矛盾", "non_police.family", "家事纠纷", Priority.NORMAL, id="family"),
    pytest.param("兄弟之间因赡养老人有分歧", "non_police.family", "家事纠纷", Priority.NORMAL, id="family-support"),
    pytest.param("两户因宅基地界线起争议", "non_police.land", "土地纠纷", Priority.NORMAL, id="land"),
    pytest.param("包工头拖欠工资三个月", "non_police.wage", "劳资纠纷", Priority.NORMAL, id="wage"),
    pytest.param("路口的路灯不亮了", "non_police.municipal", "市政设施", Priority.NORMAL, id="municipal-street-light"),
    pytest.param("人行道上的井盖缺失", "non_police.municipal", "市政设施", Priority.NORMAL, id="municipal-manhole"),
    pytest.param("整幢楼停水一天了", "non_police.utilities", "水电气热", Priority.HIGH, id="utilities-water"),
    pytest.param("家里突然没电了", "non_police.utilities", "水电气热", Priority.HIGH, id="utilities-power"),
    pytest.param("网购衣服商家不给退款", "non_police.consumer", "消费纠纷", Priority.NORMAL, id="consumer"),
    pytest.param("小区电梯故障一周没人修", "non_police.property", "物业纠纷", Priority.NORMAL, id="property"),
    pytest.param("小区里有流浪狗追咬小孩的风险", "non_police.animal", "动物", Priority.NORMAL, id="animal-dog"),
    pytest.param("院子里发现一条蛇", "non_police.animal", "动物", Priority.NORMAL, id="animal-snake"),
    pytest.param("有辆车堵住车库出不去，请求挪车", "non_police.move_car", "挪车求助", Priority.LOW, id="move-car"),
    pytest.param("附近工厂夜里偷排污水", "non_police.environment", "环境污染", Priority.NORMAL, id="environment"),
    pytest.param("邻村有人违章搭建", "non_police.illegal_building", "违章搭建", Priority.NORMAL, id="illegal-building"),
    pytest.param("朋友借钱不还", "non_police.debt", "债务纠纷", Priority.NORMAL, id="debt"),
    pytest.param("咨询居住证怎么办理", "non_police.consult", "咨询", Priority.LOW, id="consult"),
    pytest.param("两人在店门口争执", "non_police.dispute", "其他纠纷", Priority.NORMAL, id="dispute"),
]


@pytest.mark.parametrize(("summary", "rule_id", "matter_type", "priority"), NON_POLICE_TYPES)
def test_non_police_matter_types(classifier: Classifier, incident, summary, rule_id, matter_type, priority):
    result = classifier.classify(incident(summary))
    assert result.verdict is N
    assert result.reason == "keywords"
    assert result.rule_ids[0] == rule_id
    assert result.matter_type == matter_type
    assert result.priority is priority
    assert all(r.startswith("non_police.") for r in result.rule_ids)


# --- negation ---------------------------------------------------------------------------

NEGATIONS = [
    # (summary, verdict, matter_type, negated term or None)
    pytest.param("双方口角，未动手", N, "其他纠纷", "动手", id="weidongshou"),
    pytest.param("双方口角未动手", N, "其他纠纷", "动手", id="weidongshou-no-comma"),
    pytest.param("邻居吵架，无人受伤", N, "邻里纠纷", "受伤", id="wurenshoushang"),
    pytest.param("双方发生争执，没有人受伤", N, "其他纠纷", "受伤", id="meiyourenshoushang"),
    pytest.param("双方争吵，没人受伤", N, "其他纠纷", "受伤", id="meirenshoushang"),
    pytest.param("夫妻吵架，并未动手", N, "家事纠纷", "动手", id="bingweidongshou"),
    pytest.param("只是吵架，没有发生肢体冲突", N, "其他纠纷", "肢体冲突", id="meiyoufasheng-filler"),
    pytest.param("邻里口角，没跟人动手", N, "邻里纠纷", "动手", id="meigenren-filler"),
    # negation never crosses a clause break
    pytest.param("他说没有钱，他就动手打人", P, "暴力", None, id="clause-break-keeps-police"),
    pytest.param("讨薪时对方说没有钱。随后打人", P, "暴力", None, id="full-stop-keeps-police"),
    # a gap that is not filler means the cue negates something else: stay police
    pytest.param("讨薪没有钱就打人", P, "暴力", None, id="no-comma-non-filler-gap"),
    pytest.param("邻居吵架，没想到动手了", P, "暴力", None, id="meixiangdao"),
    pytest.param("未成年被打，两家有矛盾", P, "暴力", None, id="weichengnian"),
    pytest.param("未与对方动手", P, "暴力", None, id="gap-beyond-window"),
    # a negated mention does not hide an un-negated one, nor other police terms
    pytest.param("起初未动手，后来又动手了", P, "暴力", "动手", id="second-mention-live"),
    pytest.param("无人受伤，但对方持刀", P, "持械", "受伤", id="negation-does-not-cover-weapon"),
    # a denied fire with smoke is still for police to judge: the smoke is not denied
    pytest.param("报警人说没有着火，只是冒烟", P, "火灾", "着火", id="denied-fire-still-smoke"),
    # hypothesis cues: a risk is not an event ("一旦发生火灾" is a hazard complaint)
    pytest.param("楼道堆满杂物，一旦发生火灾后果严重", N, "物业纠纷", "火灾", id="yidan-hypothesis"),
    pytest.param("老房子年久失修，随时可能倒塌", N, "住房与建设", "倒塌", id="suishi-keneng"),
    # negated police term and nothing else: unclear, which routes to police
    pytest.param("双方没动手", U, None, "动手", id="only-negated-term-unclear"),
]


@pytest.mark.parametrize(("summary", "verdict", "matter_type", "negated"), NEGATIONS)
def test_negation(classifier: Classifier, incident, summary, verdict, matter_type, negated):
    result = classifier.classify(incident(summary))
    assert result.verdict is verdict
    assert result.matter_type == matter_type
    if negated is None:
        assert result.negated_terms == ()
    else:
        assert negated in result.negated_terms
    if verdict is N:
        assert not any(r.startswith("police.") for r in result.rule_ids)


# --- violent disputes: police evidence always wins -------------------------------------

VIOLENT_DISPUTES = [
    pytest.param("讨薪时对方持刀", "持械", "non_police.wage", id="wage-knife"),
    pytest.param("因工资纠纷打起来了", "暴力", "non_police.wage", id="wage-fight"),
    pytest.param("邻居因噪音吵架后动手", "暴力", "non_police.noise", id="noise-fight"),
    pytest.param("宅基地纠纷，对方扬言报复", "威胁恐吓", "non_police.land", id="land-threat"),
    pytest.param("夫妻吵架，丈夫家暴", "家庭暴力", "non_police.family", id="family-violence"),
    pytest.param("物业与业主争执，有人被打", "暴力", "non_police.property", id="property-beaten"),
    pytest.param("商家不给退款，顾客砸东西", "威胁恐吓", "non_police.consumer", id="consumer-smashing"),
]


@pytest.mark.parametrize(("summary", "matter_type", "non_police_rule"), VIOLENT_DISPUTES)
def test_violent_dispute_is_police(classifier: Classifier, incident, summary, matter_type, non_police_rule):
    result = classifier.classify(incident(summary))
    assert result.verdict is P
    assert result.matter_type == matter_type
    assert result.reason == "police_keywords"
    # the non-police evidence is present but does not count
    assert non_police_rule not in result.rule_ids
    assert all(r.startswith("police.") for r in result.rule_ids)


# --- exclusions -------------------------------------------------------------------------

EXCLUSIONS = [
    pytest.param("路灯坏了", N, "non_police.municipal", id="street-light-alone"),
    pytest.param("电动车撞到路灯", U, None, id="light-hit-by-bike-unclear"),
    pytest.param("路灯杆被撞弯了", U, None, id="light-bent-unclear"),
    pytest.param("路灯被车撞倒", P, "police.traffic", id="light-hit-by-car-traffic"),
    pytest.param("汽车撞坏路灯后逃逸", P, "police.traffic", id="light-hit-and-run-police"),
    pytest.param("路灯被撞坏，楼下停水", N, "non_police.utilities", id="exclusion-only-vetoes-its-rule"),
]


@pytest.mark.parametrize(("summary", "verdict", "first_rule"), EXCLUSIONS)
def test_exclusions(classifier: Classifier, incident, summary, verdict, first_rule):
    result = classifier.classify(incident(summary))
    assert result.verdict is verdict
    # 撞 vetoes the street-light rule: a light that was hit is an accident, not a repair job
    assert ("non_police.municipal" in result.rule_ids) is ("撞" not in summary)
    if first_rule is None:
        assert result.rule_ids == ()
    else:
        assert result.rule_ids[0] == first_rule


# --- feed category codes ----------------------------------------------------------------

CATEGORIES = [
    # (code, category_name, summary, verdict, matter_type, reason, first rule id)
    pytest.param("01", "刑事类警情", "邻居家装修噪音", P, "刑事", "feed_category", "category:01", id="police-code-beats-non-police-text"),
    pytest.param("04", "火灾类警情", "", P, "火灾", "feed_category", "category:04", id="police-code-no-text"),
    pytest.param("03", "交通类警情", "停车费纠纷", P, "交通", "feed_category", "category:03", id="traffic-code"),
    pytest.param("91", "非警务-纠纷类", "楼上邻居装修噪音", N, "噪音扰民", "feed_category_and_keywords", "category:91", id="non-police-code-text-refines"),
    pytest.param("96", "非警务-房屋管理", "物业不修电梯", N, "物业纠纷", "feed_category_and_keywords", "category:96", id="non-police-code-text-agrees"),
    pytest.param("95", "移车求助", "", N, "挪车求助", "feed_category", "category:95", id="non-police-code-no-text"),
    pytest.param("93", "非警务-咨询类", "来电询问情况", N, "咨询", "feed_category", "category:93", id="non-police-code-text-silent"),
    pytest.param("91", "非警务-纠纷类", "对方动手打人", P, "暴力", "police_keywords", "police.violence", id="police-text-beats-non-police-code"),
    pytest.param("99", "未知类别", "邻居家装修噪音", N, "噪音扰民", "keywords", "non_police.noise", id="unknown-code-text-decides"),
    pytest.param("99", "未知类别", "有人打架", P, "暴力", "police_keywords", "police.violence", id="unknown-code-police-text"),
    pytest.param("0601", "打架斗殴", "", P, "暴力", "police_keywords", "police.violence", id="unknown-code-name-is-text"),
    pytest.param("06", "纠纷类警情", "邻居家装修噪音", N, "噪音扰民", "keywords", "non_police.noise", id="unclear-code-text-non-police"),
    pytest.param("06", "纠纷类警情", "双方打起来了", P, "暴力", "police_keywords", "police.violence", id="unclear-code-text-police"),
    pytest.param("06", "纠纷类警情", "报警人称门口有人", U, None, "no_rule_matched", None, id="unclear-code-own-name-does-not-decide"),
    pytest.param("06", "纠纷类警情-打架斗殴", "", P, "暴力", "police_keywords", "police.violence", id="known-code-name-says-more"),
    pytest.param("06", "纠纷类警情 噪音", "报警人称门口有人", N, "噪音扰民", "keywords", "non_police.noise", id="known-code-rest-of-name-is-text"),
    pytest.param("93", "邻居装修噪音", "", N, "噪音扰民", "feed_category_and_keywords", "category:93", id="known-code-other-name-is-text"),
    pytest.param("05", "群众求助", "老人走失了", P, "走失", "police_keywords", "police.missing", id="help-code-missing-person"),
    pytest.param("05", "群众求助", "家里停水了", N, "水电气热", "keywords", "non_police.utilities", id="help-code-utilities"),
]


@pytest.mark.parametrize(
    ("code", "name", "summary", "verdict", "matter_type", "reason", "first_rule"), CATEGORIES
)
def test_feed_category(classifier: Classifier, incident, code, name, summary, verdict, matter_type, reason, first_rule):
    result = classifier.classify(incident(summary, category_code=code, category_name=name))
    assert result.verdict is verdict
    assert result.matter_type == matter_type
    assert result.reason == reason
    if first_rule is None:
        assert result.rule_ids == ()
    else:
        assert result.rule_ids[0] == first_rule


def test_non_police_code_with_text_lists_both_rules(classifier: Classifier, incident):
    result = classifier.classify(incident("楼上邻居装修噪音", category_code="91", category_name="非警务-纠纷类"))
    assert result.rule_ids == ("category:91", "non_police.noise", "non_police.neighbour")
    assert result.confidence == pytest.approx(0.95)


def test_police_code_still_reports_the_text_it_saw(classifier: Classifier, incident):
    result = classifier.classify(incident("邻居家装修噪音", category_code="01"))
    assert result.rule_ids == ("category:01",)
    assert "噪音" in result.matched_terms


# --- nothing to go on -------------------------------------------------------------------

NOTHING = [
    pytest.param("", None, "no_text", id="empty"),
    pytest.param("   \n ", None, "no_text", id="whitespace"),
    pytest.param("报警人来电后挂断", None, "no_rule_matched", id="no-rule"),
    pytest.param("", "99", "no_text", id="unknown-code-no-text"),
    pytest.param("", "06", "no_rule_matched", id="unclear-code-no-text"),
]


@pytest.mark.parametrize(("summary", "code", "reason"), NOTHING)
def test_nothing_to_go_on_is_unclear(classifier: Classifier, incident, summary, code, reason):
    result = classifier.classify(incident(summary, category_code=code))
    assert result.verdict is U
    assert result.reason == reason
    assert result.matter_type is None
    assert result.priority is Priority.HIGH
    assert result.rule_ids == ()


# --- explainability ---------------------------------------------------------------------

EXPLAIN = [
    # (summary, rule_ids, matched_terms, matter_type, confidence)
    pytest.param("邻居家装修噪音太吵", ("non_police.noise", "non_police.neighbour"), ("噪音", "邻居"), "噪音扰民", 0.85, id="strong-before-weak"),
    pytest.param("老板拖欠工资", ("non_police.wage",), ("拖欠工资",), "劳资纠纷", 0.85, id="one-type"),
    pytest.param("噪音很大，又停电了", ("non_police.utilities", "non_police.noise"), ("停电", "噪音"), "水电气热", 0.7, id="priority-orders-non-police"),
    pytest.param("对方持刀威胁", ("police.weapon", "police.threat"), ("持刀", "威胁"), "持械", 0.9, id="priority-orders-police"),
    pytest.param("宅基地纠纷", ("non_police.land", "non_police.dispute"), ("宅基地", "纠纷"), "土地纠纷", 0.85, id="specific-before-generic"),
    pytest.param("两人在店门口争执", ("non_police.dispute",), ("争执",), "其他纠纷", 0.6, id="weak-only"),
]


@pytest.mark.parametrize(("summary", "rule_ids", "terms", "matter_type", "confidence"), EXPLAIN)
def test_rules_and_terms_are_reported(classifier: Classifier, incident, summary, rule_ids, terms, matter_type, confidence):
    result = classifier.classify(incident(summary))
    assert result.rule_ids == rule_ids
    assert result.matched_terms == terms
    assert result.matter_type == matter_type
    assert result.confidence == pytest.approx(confidence)


# --- isolated rules (the fake jurisdiction) ---------------------------------------------

FAKE_CASES = [
    # (summary, verdict, rule_ids)
    pytest.param("未动手", U, (), id="gap-0"),
    pytest.param("未他动手", U, (), id="gap-1-filler"),
    pytest.param("未和他动手", U, (), id="gap-2-fillers"),
    pytest.param("未和他们动手", P, ("police.violence",), id="gap-3-beyond-window"),
    pytest.param("未说就动手", P, ("police.violence",), id="gap-not-filler"),
    pytest.param("未，动手", P, ("police.violence",), id="gap-clause-break"),
    pytest.param("无人受伤，吵架", N, ("non_police.dispute",), id="negated-police-plus-dispute"),
    pytest.param("路灯坏了", N, ("non_police.municipal",), id="municipal"),
    pytest.param("路灯被撞", U, (), id="municipal-excluded"),
    pytest.param("未着火", P, ("police.fire",), id="non-negatable"),
]


@pytest.mark.parametrize(("summary", "verdict", "rule_ids"), FAKE_CASES)
def test_fake_rules(fake, incident, summary, verdict, rule_ids):
    result = Classifier(fake.rules).classify(incident(summary))
    assert result.verdict is verdict
    assert result.rule_ids == rule_ids


EMPTY_RULE_SETS = [
    pytest.param(ClassificationRules(keywords=()), id="no-rules-no-cues"),
    pytest.param(ClassificationRules(keywords=(), negation_cues=("未",)), id="cues-only"),
]


@pytest.mark.parametrize("rules", EMPTY_RULE_SETS)
def test_no_keyword_rules_is_total(rules, incident):
    result = Classifier(rules).classify(incident("未动手打人"))
    assert result.verdict is U
    assert result.reason == "no_rule_matched"
