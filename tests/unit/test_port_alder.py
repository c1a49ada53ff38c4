"""The second example bundle, Port Alder (a fictional English-language city): it loads clean and routes every one
of its labelled cases right, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.bundle import check_bundle, load_bundle
from router.domain.hotspots import HotspotRules
from router.domain.jurisdiction import Jurisdiction
from router.domain.routing import Router
from router.evaluation import evaluate
from workers.evaluation_report import read_cases

PORT_ALDER = Path(__file__).resolve().parents[2] / "jurisdictions" / "port-alder"


@pytest.fixture(scope="module")
def port_alder() -> Jurisdiction:
    return load_bundle(PORT_ALDER)


def test_the_bundle_has_no_problems():
    assert check_bundle(PORT_ALDER) == []


def test_its_units_are_its_own(port_alder: Jurisdiction):
    assert [t.code for t in port_alder.towns] == ["PA-N1", "PA-N2", "PA-S1", "PA-S2"]
    assert str(port_alder.loop.calendar.timezone) == "America/Los_Angeles"
    assert len(port_alder.streets) == 12 and len(port_alder.street_types) == 8


def test_what_it_leaves_out_takes_the_documented_defaults(port_alder: Jurisdiction):
    assert port_alder.rules.negation_fillers == " "  # kept, not trimmed away: "no shots" is negated
    assert port_alder.hotspots == HotspotRules()  # no [hotspots] section


def test_every_labelled_case_is_routed_right(port_alder: Jurisdiction):
    cases = [case for path in sorted((PORT_ALDER / "cases").glob("*.jsonl")) for case in read_cases(path)]
    card = evaluate(Router(port_alder), cases)
    t = card.total
    assert t.cases == len(cases) >= 30
    assert t.police_kept == t.police > 0
    assert t.diverted == t.non_police > 0
    assert t.right_town == t.with_town == t.non_police  # every mapped unit right, none to review
    assert t.wrong_town == t.to_review == 0
    assert all(not misses for misses in card.misses.values())
