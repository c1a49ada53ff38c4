"""The bundle's `[hotspots]` and `[safety_index]` tables: the shipped values load, bad ones are located."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.bundle import check_bundle
from router.domain.safety_index import Strain
from tests.unit.test_ranking_bundle import bundle, replace_line  # noqa: F401  (the copied-bundle fixture)


def test_shipped_hotspot_and_safety_rules(xiaoshan):
    h = xiaoshan.hotspots
    assert (h.window_days, h.baseline_days, h.min_count, h.p_value, h.min_expected) == (30, 180, 3, 0.01, 0.5)
    s = xiaoshan.safety
    assert s.weights[Strain.INCIDENTS] == 30 and sum(s.weights.values()) == 100
    assert [b.name for b in s.bands] == ["平安", "基本平安", "欠平安"] and s.priority_points["urgent"] == 3


@pytest.mark.parametrize(("starts", "new", "field", "fragment"), [
    pytest.param("window_days =", "window_days = 0", "hotspots.window_days", "greater than or equal to 1",
                 id="empty-window"),
    pytest.param("p_value =", "p_value = 1.5", "hotspots.p_value", "less than 1", id="p-above-1"),
    pytest.param("bands =", 'bands = [{ min_index = 90, name = "平安" }]', "safety_index.bands",
                 "one band must start at 0", id="no-floor-band"),
    pytest.param("incident_ceiling =", "incident_ceiling = 0", "safety_index.incident_ceiling", "greater than 0",
                 id="zero-ceiling"),
    pytest.param("dissatisfied =", "dissatisfied = -1", "safety_index.weights.dissatisfied",
                 "greater than or equal to 0", id="negative-weight"),
])
def test_bad_value_is_located(bundle: Path, starts: str, new: str, field: str, fragment: str):  # noqa: F811
    line = replace_line(bundle, starts, new)
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("bundle.toml", line, field)]
    assert fragment in problems[0].message
