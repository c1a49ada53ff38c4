"""High-incidence areas on hand-made incidents with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from router.bundle.rows import HotspotsSection
from router.domain.hotspots import HotspotRules, Sighting, before_after, find, place_key, poisson_tail

NOW = datetime(2026, 11, 30, tzinfo=UTC)
RULES = HotspotRules(window_days=30, baseline_days=180, min_count=3, p_value=0.01, min_expected=0.5)


def _at(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


def test_poisson_tail_matches_the_closed_form():
    # P(X >= 3 | λ = 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125)
    assert poisson_tail(3, 0.5) == pytest.approx(1 - math.exp(-0.5) * 1.625)
    assert poisson_tail(0, 4.0) == 1.0


def test_a_quiet_village_with_four_disputes_this_month_is_a_hotspot():
    sightings = [Sighting("village:A", "邻里纠纷", _at(d)) for d in (1, 5, 9, 20)]
    (spot,) = find(sightings, NOW, RULES)
    assert (spot.place, spot.count, spot.baseline, spot.expected) == ("village:A", 4, 0, 0.5)
    assert spot.p_value == pytest.approx(1 - math.exp(-0.5) * (1 + 0.5 + 0.125 + 0.125 / 6))  # λ³/3! = 0.125/6


def test_a_village_that_always_has_this_many_is_not():
    # 24 in the 180 days before: 4 expected in 30 days; 5 now is ordinary (P ≈ 0.37)
    past = [Sighting("village:B", "噪音扰民", _at(31 + i * 7)) for i in range(24)]
    now = [Sighting("village:B", "噪音扰民", _at(d)) for d in (1, 2, 3, 4, 5)]
    assert find(past + now, NOW, RULES) == []


def test_below_the_minimum_count_nothing_is_flagged_and_types_do_not_mix():
    sightings = [Sighting("village:C", "邻里纠纷", _at(1)), Sighting("village:C", "邻里纠纷", _at(2)),
                 Sighting("village:C", "物业纠纷", _at(3))]
    assert find(sightings, NOW, RULES) == []


def test_incidents_older_than_window_and_baseline_are_ignored():
    # 3 with no history: P = 1 - e^-0.5 × 1.625 ≈ 0.014, not below 0.01; a fourth makes it one
    sightings = [Sighting("village:D", "邻里纠纷", _at(d)) for d in (1, 2, 3)]
    sightings += [Sighting("village:D", "邻里纠纷", _at(400)) for _ in range(50)]
    assert find(sightings, NOW, RULES) == []
    sightings.append(Sighting("village:D", "邻里纠纷", _at(30.5)))  # baseline, not window: still none
    assert find(sightings, NOW, RULES) == []
    sightings.append(Sighting("village:D", "邻里纠纷", _at(4)))
    (spot,) = find(sightings, NOW, RULES)
    assert (spot.count, spot.baseline, spot.expected) == (4, 1, 0.5)  # 1 × 30/180 is below min_expected


def test_place_key_prefers_village_then_cell_then_address():
    assert place_key("330109002001", 120.2, 30.1, "某路1号", 200) == "village:330109002001"
    a = place_key(None, 120.26, 30.18, None, 200)
    b = place_key(None, 120.2601, 30.1801, None, 200)  # ~14 m away: same 200 m cell
    assert a == b and a.startswith("cell:")
    assert place_key(None, None, None, " 新塘街道 某路 1号 ", 200) == "address:新塘街道某路1号"
    assert place_key(None, None, None, "  ", 200) is None


def test_before_after_uses_equal_windows():
    started = _at(10)
    times = [_at(d) for d in (25, 18, 12, 11, 4)]  # 4 in the 10 days before, 1 in the 10 days after
    result = before_after(times, started, NOW, window_days=30)
    assert (result.days, result.before, result.after, result.fell) == (10, 3, 1, True)
    assert before_after(times, NOW, NOW, 30).fell is None


def test_a_bundle_without_a_hotspots_section_gets_the_documented_defaults():
    assert HotspotsSection().rules() == HotspotRules(window_days=30, baseline_days=180, min_count=3, p_value=0.01,
                                                     min_expected=0.5, cell_metres=200.0)
