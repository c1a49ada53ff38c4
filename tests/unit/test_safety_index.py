"""The 平安指数 on hand-made months with answers worked out by hand."""

from __future__ import annotations

import pytest

from router.domain.safety_index import SafetyRules, Strain, UnitMonth, score

RULES = SafetyRules()  # weights 30/15/15/15/15/10 (sum 100), ceilings 20/5/2 per village


def test_a_quiet_month_is_100_and_safe():
    result = score(UnitMonth("v1"), RULES)
    assert (result.index, result.band) == (100.0, "平安")
    assert all(v == 0 for v in result.losses.values())


def test_each_component_takes_its_share():
    # points = 2 police × 2 + 4 normal × 1 + 1 urgent × 3 = 11 of 20 → 0.55 × 30 = 16.5
    # repeats 1/5 × 15 = 3; disputes 1/2 × 15 = 7.5; unresolved (1 - 3/4) × 15 = 3.75
    # dissatisfied 1/2 × 15 = 7.5; reopens 1/4 × 10 = 2.5 → 100 - 40.75 = 59.25 → 59.2 (half to even)
    month = UnitMonth("v1", police=2, by_priority={"normal": 4, "urgent": 1}, repeats=1, disputes=1,
                      opened=4, closed=3, reopened=1, callbacks=2, unsatisfied=1)
    result = score(month, RULES)
    assert result.losses[Strain.INCIDENTS] == pytest.approx(16.5)
    assert result.losses[Strain.UNRESOLVED] == pytest.approx(3.75)
    assert sum(result.losses.values()) == pytest.approx(40.75)
    assert result.index == pytest.approx(59.2)
    assert result.band == "欠平安"


def test_a_town_scales_the_ceilings_by_its_villages_and_strains_cap_at_one():
    town = UnitMonth("t1", villages=10, by_priority={"normal": 100})  # 100 of 200 points
    assert score(town, RULES).losses[Strain.INCIDENTS] == pytest.approx(15)
    village = UnitMonth("v1", by_priority={"normal": 100})
    assert score(village, RULES).strains[Strain.INCIDENTS] == 1.0
    assert score(village, RULES).index == 70.0 and score(village, RULES).band == "欠平安"


def test_bands_follow_their_thresholds():
    result = score(UnitMonth("v1", by_priority={"normal": 5}), RULES)  # 5/20 × 30 = 7.5 → 92.5
    assert (result.index, result.band) == (92.5, "平安")
    result = score(UnitMonth("v1", by_priority={"normal": 10}), RULES)  # 15 → 85
    assert (result.index, result.band) == (85.0, "基本平安")
