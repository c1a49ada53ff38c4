"""Matching for any script (issue 12): one folded form (NFKC, half-width, case-folded) for place names and
keywords, whole words in alphabetic scripts, whole names in Chinese."""

from __future__ import annotations

import dataclasses

import pytest

from router.domain.classify import Classifier
from router.domain.gazetteer import Method, Placement, TownResolver
from router.domain.jurisdiction import (
    ClassificationRules,
    CommandCentre,
    Jurisdiction,
    KeywordRule,
    PetitionRegister,
    Priority,
    Town,
    Verdict,
    Village,
)
from router.domain.names import NameSet
from router.domain.plain_text import folded
from router.domain.terms import Terms, match_form
from tests.unit.conftest import TOWN_A, TOWN_B, build_fake, make_incident

FOLDED = [
    # (text, folded form)
    ("BEAT 523", "beat 523"),
    ("ＢＥＡＴ　５２３", "beat 523"),  # full-width letters, digits and the ideographic space
    ("Straße", "strasse"),
    ("新塘街道", "新塘街道"),
    ("１２３号", "123号"),
    ("٣٢١ Main", "321 main"),  # Arabic-Indic digits
]


@pytest.mark.parametrize(("text", "form"), FOLDED)
def test_one_folded_form(text, form):
    assert folded(text)[0] == form == match_form(text)


def test_the_folded_form_points_back_at_the_original():
    text = "Straße 5"
    form, origin = folded(text)
    assert form == "strasse 5"
    assert [text[i] for i in origin] == ["S", "t", "r", "a", "ß", "ß", "e", " ", "5"]  # both s come from ß
    assert text[origin[form.index("5")]] == "5"


WHOLE_WORDS = [
    # (words, text, found whole)
    (("shots",), "SHOTS FIRED on Front St", {"shots"}),
    (("shots",), "selling SNAPSHOTS of the harbour", set()),
    (("shots",), "shots, then silence", {"shots"}),
    (("loud party",), "LOUD PARTY next door", {"loud party"}),
    (("loud party",), "a Loud Party", {"loud party"}),
    (("beat 523",), "BEAT 523", {"beat 523"}),
    (("beat 523",), "beat 5231", set()),  # a digit continues the word
    (("beat 52",), "Beat 523", set()),
    (("gun",), "shotgun", set()),
    (("gun",), "gun-shy", {"gun"}),  # a hyphen ends a word
    (("oak",), "Oakland", set()),
    (("ktv",), "在KTV门口", {"ktv"}),  # an ideograph beside a Latin word is a boundary
    (("新塘",), "新塘街道", {"新塘"}),  # Chinese has no word boundary: the resolver's rules decide
    (("打人",), "有人打人了", {"打人"}),
]


@pytest.mark.parametrize(("words", "text", "whole"), WHOLE_WORDS)
def test_words_of_alphabetic_scripts_match_only_whole(words, text, whole):
    terms = Terms({match_form(w): w for w in words})
    assert {f.value for f in terms.every(match_form(text)) if f.whole} == whole
    assert NameSet(words).in_text(text) is bool(whole)


def test_longest_takes_the_leftmost_longest_whole_words():
    terms = Terms({w: w for w in ("harbor", "harbor st", "st", "old harbor")})
    assert [f.value for f in terms.longest("1200 old harbor st")] == ["old harbor", "st"]
    assert [f.value for f in terms.longest("1200 harbor st.")] == ["harbor st"]
    assert [f.value for f in terms.longest("harbors")] == []


ENGLISH_RULES = ClassificationRules(
    keywords=(
        KeywordRule("police.weapon", Verdict.POLICE, "Weapons", Priority.URGENT, ("shots", "GUN"), negatable=True),
        KeywordRule("non_police.noise", Verdict.NON_POLICE, "Noise", Priority.NORMAL, ("LOUD PARTY", "loud music")),
        KeywordRule("non_police.light", Verdict.NON_POLICE, "Streetlight", Priority.LOW, ("Streetlight",)),
    ),
    negation_cues=("no",),
    negation_window=1,
    negation_fillers=" ",
)

CLASSIFIED = [
    # (summary, verdict, matter type, matched terms, shielded terms)
    ("loud party", Verdict.NON_POLICE, "Noise", ("LOUD PARTY",), ()),
    ("LOUD PARTY", Verdict.NON_POLICE, "Noise", ("LOUD PARTY",), ()),
    ("ｌｏｕｄ　ｐａｒｔｙ", Verdict.NON_POLICE, "Noise", ("LOUD PARTY",), ()),
    ("SHOTS FIRED", Verdict.POLICE, "Weapons", ("shots",), ()),
    ("camera shop sells SNAPSHOTS, loud music", Verdict.NON_POLICE, "Noise", ("loud music",), ("shots",)),
    ("man with a Gun", Verdict.POLICE, "Weapons", ("GUN",), ()),
    ("kids with a shotgun-shaped balloon, streetlight out", Verdict.NON_POLICE, "Streetlight", ("Streetlight",),
     ("GUN",)),
    ("no shots, just loud music", Verdict.NON_POLICE, "Noise", ("loud music",), ()),
    ("STREETLIGHTS flickering", Verdict.UNCLEAR, None, (), ("Streetlight",)),
]


@pytest.mark.parametrize(("summary", "verdict", "matter", "terms", "shielded"), CLASSIFIED)
def test_keywords_match_case_and_width_insensitively_and_whole(summary, verdict, matter, terms, shielded):
    result = Classifier(ENGLISH_RULES).classify(make_incident(summary))
    assert (result.verdict, result.matter_type) == (verdict, matter)
    assert result.matched_terms == terms
    assert result.shielded_terms == shielded


def test_chinese_keywords_keep_the_longest_word_rule(classifier: Classifier):
    assert classifier.classify(make_incident("楼下有撞击声")).verdict is not Verdict.POLICE
    assert classifier.classify(make_incident("有人打人了")).verdict is Verdict.POLICE
    assert classifier.classify(make_incident("有人ＫＴＶ门口打人了")).verdict is Verdict.POLICE


def test_a_petitions_words_are_reported_as_written():
    rules = ClassificationRules(
        keywords=(KeywordRule("police.violence", Verdict.POLICE, "暴力", Priority.HIGH, ("打人",)),
                  KeywordRule("non_police.property", Verdict.NON_POLICE, "物业纠纷", Priority.NORMAL, ("物业",))),
        petition=PetitionRegister(titles=("市长",)),
    )
    result = Classifier(rules).classify(make_incident("王市长：物业乱收费，还说要打人"))
    assert result.verdict is Verdict.NON_POLICE
    assert result.matched_terms[0] == "市长："  # as written, the full-width colon kept (folded: "市长:")


def _english_units() -> Jurisdiction:
    return dataclasses.replace(
        build_fake(),
        towns=(Town(TOWN_A, "Harborside District", "district", CommandCentre(TOWN_A, "Harborside"), True,
                    ("Beat 523",)),
               Town(TOWN_B, "Millbrook District", "district", CommandCentre(TOWN_B, "Millbrook"), True,
                    ("Beat 524",))),
        villages=(Village("900001201", "Old Harbor", TOWN_A, ("Old Harbor",)),
                  Village("900002201", "Oak Park", TOWN_B, ("Oak Park",))),
        boundaries=(),
    )


PLACED = [
    # (address, placement, town)
    ("BEAT 523", Placement.RESOLVED, TOWN_A),
    ("beat 524", Placement.RESOLVED, TOWN_B),
    ("ＢＥＡＴ ５２４", Placement.RESOLVED, TOWN_B),
    ("Beat 5231", Placement.UNRESOLVED, None),
    ("OLD HARBOR", Placement.RESOLVED, TOWN_A),
    ("Oak Parkway", Placement.UNRESOLVED, None),  # "Oak Park" is no part of "Oak Parkway"
    ("Old Harbor, Oak Park", Placement.AMBIGUOUS, None),
]


@pytest.mark.parametrize(("address", "placement", "town"), PLACED)
def test_place_names_match_case_width_insensitively_and_whole(address, placement, town):
    result = TownResolver(_english_units()).resolve(make_incident("", address))
    assert (result.placement, result.town_code) == (placement, town)
    if placement is Placement.RESOLVED:
        assert result.method is Method.ADDRESS


CHINESE_PLACED = [
    # (address, placement, town): the Chinese whole-name rules are kept
    ("甲街道", Placement.RESOLVED, TOWN_A),
    ("乙镇开发区", Placement.RESOLVED, TOWN_B),
    ("双桥村", Placement.AMBIGUOUS, None),
    ("外街道双桥村", Placement.OUTSIDE, None),
]


@pytest.mark.parametrize(("address", "placement", "town"), CHINESE_PLACED)
def test_chinese_names_still_match_as_whole_names(fake: Jurisdiction, address, placement, town):
    result = TownResolver(fake).resolve(make_incident("", address))
    assert (result.placement, result.town_code) == (placement, town)


def test_a_masked_unit_is_reported_as_written(resolver: TownResolver):
    result = resolver.resolve(make_incident("", "D7县新塘村"))
    assert "D7县" in {e.text for e in result.evidence if e.kind == "outside"}
