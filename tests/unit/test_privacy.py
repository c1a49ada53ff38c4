"""Caller data: which roles see it, and how it is masked for the others."""

from __future__ import annotations

import pytest

from router.domain.lifecycle import Role
from router.domain.privacy import mask_name, mask_phone, mask_phones, mask_text, sees_callers


@pytest.mark.parametrize(("role", "sees"), [
    (Role.TOWN_OPERATOR, True), (Role.INTEGRATION, True), (Role.DISTRICT_DISPATCHER, True), (Role.DISTRICT_OPERATOR, True),
    (Role.TOWN_LEADER, False), (Role.DISTRICT_SUPERVISOR, False), (Role.ADMIN, False),
])
def test_only_the_roles_that_call_citizens_back_see_callers(role, sees):
    assert sees_callers(role) is sees


@pytest.mark.parametrize(("text", "masked"), [
    ("报警人电话13912345678，请回电", "报警人电话139****5678，请回电"),
    ("+8613912345678", "+86139****5678"),
    ("座机0571-82345678", "座机0571-****5678"),
    ("门牌号 1234 号，工单 WO123456789012", "门牌号 1234 号，工单 WO123456789012"),
    ("手机138-1234-5678或138 1234 5678", "手机138****5678或138****5678"),
    ("座机 0571 8234 5678", "座机 0571 ****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("身份证330109199001011234，", "身份证330109********1234，"),
    ("身份证33010919900101123X", "身份证330109********123X"),
    ("工单WO330109199001011234X", "工单WO330109199001011234X"),
])
def test_phone_numbers_inside_free_text_are_masked(text, masked):
    assert mask_phones(text) == masked


# Issue 11: the ways a number was written that slipped past the masking; punctuation around them stays as written.
@pytest.mark.parametrize(("text", "masked"), [
    ("电话１３９１２３４５６７８，", "电话139****5678，"),                    # full-width digits
    ("电话139.1234.5678", "电话139****5678"),                                # dotted
    ("电话 139 1234 5678 回电", "电话 139****5678 回电"),                     # spaced
    ("电话139\u200b1234\u200b5678", "电话139****5678"),                       # zero-width split
    ("电话139\u202e1234\u202c5678", "电话139****5678"),                       # bidi-split
    ("电话١٣٩١٢٣٤٥٦٧٨", "电话139****5678"),                                  # Arabic-Indic digits
    ("电话۱۳۹۱۲۳۴۵۶۷۸", "电话139****5678"),                                  # Extended Arabic-Indic (Persian)
    ("身份证330109900101123", "身份证330109******123"),                      # 15-digit ID
    ("身份证 330109 19900101 123X。", "身份证 330109********123X。"),          # spaced ID
    ("身份证３３０１０９１９９００１０１１２３Ｘ", "身份证330109********123X"),  # full-width ID
    ("座机(0571)8765 4321", "座机(0571)****4321"),                           # bracketed area code
    ("座机（0571）87654321", "座机(0571)****4321"),                          # full-width brackets
    ("座机0571.8765.4321", "座机0571.****4321"),
], ids=["full-width", "dotted", "spaced", "zero-width", "bidi", "arabic-indic", "persian", "id-15", "id-spaced",
        "id-full-width", "landline-brackets", "landline-full-width-brackets", "landline-dotted"])
def test_numbers_in_any_unicode_form_are_masked(text, masked):
    assert mask_phones(text) == masked


@pytest.mark.parametrize("text", ["2026-11-30 10:00 报警", "金额 1234.56 元", "门牌 88 号 3 单元 1201 室"])
def test_dates_amounts_and_house_numbers_are_left_alone(text):
    assert mask_phones(text) == text


@pytest.mark.parametrize(("phone", "masked"), [
    ("13912345678", "****5678"), ("0571-82345678", "****5678"), ("12345", "****2345"), ("110", "****"),
    ("１３９１２３４５６７８", "****5678"), ("١٣٩١٢٣٤٥٦٧٨", "****5678"),
])
def test_a_phone_field_keeps_only_its_last_four_digits_whatever_its_shape(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("name", "masked"), [("王小明", "王**"), ("李四", "李*"), ("欧阳", "欧*"), ("Li", "L*"),
                                              ("张", "张*")])
def test_a_name_keeps_its_first_character(name, masked):
    assert mask_name(name) == masked


def test_free_text_loses_the_callers_names_and_numbers():
    text = "王小明反映邻居王小明亮装修，电话13912345678；李四也来电"
    assert mask_text(text, ["王小明", "李四", None, "张"]) == "王**反映邻居王**亮装修，电话139****5678；李*也来电"


def test_a_name_split_by_invisible_characters_is_masked_too():
    assert mask_text("王\u200b小明来电", ["王小明"]) == "王**来电"
