"""The bundle's `[ranking]` section: the shipped values load, each bad value is named by file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from router.bundle import check_bundle, load_bundle
from router.domain.ranking import Indicator


@pytest.fixture
def bundle(tmp_path: Path, xiaoshan_dir: Path) -> Path:
    target = tmp_path / "xiaoshan"
    shutil.copytree(xiaoshan_dir, target)
    return target


def replace_line(bundle: Path, starts: str, new: str) -> int:
    """Replace the first line of bundle.toml starting with `starts`; its 1-based number."""
    path = bundle / "bundle.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(starts))
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def test_shipped_ranking_rules(xiaoshan):
    rules = xiaoshan.ranking
    assert (rules.red_min_score, rules.black_below_score, rules.min_orders) == (90, 70, 5)
    assert rules.weights[Indicator.RESOLUTION] == 30 and sum(rules.weights.values()) == 100


BAD_VALUES = [
    # (line starting with, replacement, field, message fragment)
    pytest.param("red_min_score =", "red_min_score = 120", "ranking.red_min_score", "less than or equal to 100",
                 id="red-above-100"),
    pytest.param("red_min_score =", "red_min_score = 60", "ranking.red_min_score", "black_below_score (70",
                 id="red-below-black"),
    pytest.param("black_below_score =", "black_below_score = -1", "ranking.black_below_score",
                 "greater than or equal to 0", id="black-negative"),
    pytest.param("min_orders =", "min_orders = 0", "ranking.min_orders", "greater than or equal to 1",
                 id="min-orders-zero"),
    pytest.param("min_orders =", 'min_orders = "five"', "ranking.min_orders", "integer", id="min-orders-not-int"),
    pytest.param("returns =", "returns = -10", "ranking.weights.returns", "greater than or equal to 0",
                 id="negative-weight"),
]


@pytest.mark.parametrize(("starts", "new", "field", "fragment"), BAD_VALUES)
def test_bad_ranking_value_is_located(bundle: Path, starts: str, new: str, field: str, fragment: str):
    line = replace_line(bundle, starts, new)
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("bundle.toml", line, field)]
    assert fragment in problems[0].message


def test_a_misspelt_weight_is_named_and_so_is_the_one_missing(bundle: Path):
    line = replace_line(bundle, "returns =", "return = 10")
    header = replace_line(bundle, "[ranking.weights]", "[ranking.weights]")
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field, p.message) for p in problems] == [
        ("bundle.toml", header, "ranking.weights.returns", "Field required"),
        ("bundle.toml", line, "ranking.weights.return", "Extra inputs are not permitted")]


def test_a_missing_weight_points_at_the_weights_table(bundle: Path):
    replace_line(bundle, "reopens =", "")
    header = replace_line(bundle, "[ranking.weights]", "[ranking.weights]")
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field, p.message) for p in problems] == [
        ("bundle.toml", header, "ranking.weights.reopens", "Field required")]


def test_all_weights_zero_is_refused(bundle: Path):
    for name in Indicator:
        replace_line(bundle, f"{name.value} =", f"{name.value} = 0")
    header = replace_line(bundle, "[ranking.weights]", "[ranking.weights]")
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("bundle.toml", header, "ranking.weights")]
    assert "at least one weight" in problems[0].message


def test_without_a_ranking_section_the_documented_defaults_apply(bundle: Path):
    path = bundle / "bundle.toml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("[ranking]"), text.index("[classification]")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    rules = load_bundle(bundle).ranking
    assert (rules.red_min_score, rules.black_below_score, rules.min_orders) == (90, 70, 5)
    assert dict(rules.weights) == {Indicator.ACKNOWLEDGE_ON_TIME: 20, Indicator.REPORT_ON_TIME: 25,
                                   Indicator.RESOLUTION: 30, Indicator.RETURNS: 10, Indicator.REOPENS: 15}
