"""Caller data: which roles see it, and how it is masked for the others."""

from __future__ import annotations

import pytest

from router.domain.lifecycle import Role
from router.domain.privacy import mask_name, mask_phone, mask_phones, sees_callers


@pytest.mark.parametrize(("role", "sees"), [
    (Role.TOWN_OPERATOR, True), (Role.INTEGRATION, True), (Role.DISTRICT_DISPATCHER, True),
    (Role.TOWN_LEADER, False), (Role.DISTRICT_SUPERVISOR, False), (Role.ADMIN, False),
])
def test_only_the_roles_that_call_citizens_back_see_callers(role, sees):
    assert sees_callers(role) is sees


@pytest.mark.parametrize(("text", "masked"), [
    ("报警人电话13912345678，请回电", "报警人电话139****5678，请回电"),
    ("+8613912345678", "+86139****5678"),
    ("座机0571-82345678", "座机0571-****5678"),
    ("门牌号 1234 号，工单 WO123456789012", "门牌号 1234 号，工单 WO123456789012"),
])
def test_phone_numbers_inside_free_text_are_masked(text, masked):
    assert mask_phones(text) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13912345678", "****5678"), ("0571-82345678", "****5678"), ("12345", "****2345"), ("110", "****"),
])
def test_a_phone_field_keeps_only_its_last_four_digits_whatever_its_shape(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("name", "masked"), [("王小明", "王**"), ("李四", "李*"), ("欧阳", "欧*"), ("Li", "L*"),
                                              ("张", "张*")])
def test_a_name_keeps_its_first_character(name, masked):
    assert mask_name(name) == masked
