"""The street gazetteer (streets.csv) and street types (street_types.csv): house-number ranges, parity, a street
crossing two units, street-type variants, and a street + number outweighing a neighbourhood named like it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from router.bundle import check_bundle, load_bundle
from router.bundle.problems import Problem
from router.domain.gazetteer import Method, Placement, TownResolver, street_spellings
from router.domain.jurisdiction import (
    CommandCentre,
    Jurisdiction,
    Parity,
    Street,
    StreetSegment,
    StreetType,
    Town,
    Village,
)
from tests.unit.conftest import build_fake, make_incident

N1, N2, S1 = "900001", "900002", "900003"
TYPES = (StreetType("Street", ("St", "Str")), StreetType("Avenue", ("Ave",)), StreetType("Road", ("Rd",)),
         StreetType("路", ("大道",)))

HARBOR = Street("Harbor Street", ("Harbor Street",),
                (StreetSegment(N1, 1, 1999), StreetSegment(S1, 2000, None)))
ALDER = Street("Alder Boulevard", ("Alder Boulevard", "Alder Blvd"),
               (StreetSegment(N2, parity=Parity.ODD), StreetSegment(S1, parity=Parity.EVEN)))
BAYVIEW = Street("Bayview Avenue", ("Bayview Avenue",), (StreetSegment(S1),))
SHIXIN = Street("市心路", ("市心路",), (StreetSegment(N1, 1, 199), StreetSegment(N2, 200, None)))


SEGMENTS = [
    # (street, number, units)
    (HARBOR, 1, {N1}),
    (HARBOR, 1999, {N1}),
    (HARBOR, 2000, {S1}),
    (HARBOR, 98_000, {S1}),  # an open end
    (HARBOR, 0, set()),  # below every range
    (HARBOR, None, {N1, S1}),  # no number: every unit the street runs through
    (ALDER, 315, {N2}),
    (ALDER, 316, {S1}),
    (ALDER, None, {N2, S1}),
]


@pytest.mark.parametrize(("street", "number", "units"), SEGMENTS)
def test_a_house_number_lies_in_the_segments_holding_it(street: Street, number, units):
    assert street.units(number) == units


SPELLINGS = [
    # (street, some of its spellings, not a spelling)
    (HARBOR, {"harbor street", "harbor st", "harbor str"}, "harbor ave"),
    (BAYVIEW, {"bayview avenue", "bayview ave"}, "bayview st"),
    (ALDER, {"alder boulevard", "alder blvd"}, "alder st"),  # no Boulevard type: its names as written
    (SHIXIN, {"市心路", "市心大道"}, "市心街"),
    (Street("Forest", ("Forest",), (StreetSegment(N1),)), {"forest"}, "fore street"),  # "st" ends a word here
]


@pytest.mark.parametrize(("street", "spellings", "not_one"), SPELLINGS)
def test_a_street_is_known_by_every_way_of_writing_its_type(street: Street, spellings, not_one):
    found = street_spellings(street, TYPES)
    assert spellings <= found
    assert not_one not in found


def _city() -> Jurisdiction:
    return dataclasses.replace(
        build_fake(),
        towns=tuple(Town(code, name, "district", CommandCentre(code, name), True)
                    for code, name in ((N1, "Harborside District"), (N2, "Alder Heights District"),
                                       (S1, "Millbrook District"))),
        villages=(Village("900002201", "Bayview", N2, ("Bayview",)),
                  Village("900001201", "Old Harbor", N1, ("Old Harbor",))),
        boundaries=(),
        streets=(HARBOR, ALDER, BAYVIEW, SHIXIN),
        street_types=TYPES,
    )


ADDRESSES = [
    # (address, placement, unit, street evidence as written)
    ("1450 HARBOR ST", Placement.RESOLVED, N1, "1450 HARBOR ST"),
    ("2210 harbor street", Placement.RESOLVED, S1, "2210 harbor street"),
    ("2000 block of Harbor St.", Placement.RESOLVED, S1, "2000 block of Harbor St"),
    ("315 ALDER BLVD", Placement.RESOLVED, N2, "315 ALDER BLVD"),
    ("316 Alder Blvd", Placement.RESOLVED, S1, "316 Alder Blvd"),
    ("HARBOR ST", Placement.AMBIGUOUS, None, "HARBOR ST"),  # no number, two units
    ("BAYVIEW AVE", Placement.RESOLVED, S1, "BAYVIEW AVE"),  # the street, not the Bayview neighbourhood (N2)
    ("812 BAYVIEW AVE, Bayview", Placement.RESOLVED, S1, "812 BAYVIEW AVE"),  # street + number outweigh it
    ("1450 HARBOR ST, Millbrook District", Placement.AMBIGUOUS, None, "1450 HARBOR ST"),  # the unit's name does not
    ("市心路123号", Placement.RESOLVED, N1, "市心路123号"),
    ("市心大道250号", Placement.RESOLVED, N2, "市心大道250号"),
    ("１４５０ ＨＡＲＢＯＲ ＳＴ", Placement.RESOLVED, N1, "１４５０ ＨＡＲＢＯＲ ＳＴ"),
    ("1450 HARBORVIEW ST", Placement.UNRESOLVED, None, None),  # not Harbor Street
]


@pytest.mark.parametrize(("address", "placement", "unit", "written"), ADDRESSES)
def test_a_street_and_house_number_place_a_unit(address, placement, unit, written):
    result = TownResolver(_city()).resolve(make_incident("", address))
    assert (result.placement, result.town_code) == (placement, unit)
    streets = [e for e in result.evidence if e.kind == "street"]
    assert [e.text for e in streets][:1] == ([written] if written else [])
    if placement is Placement.RESOLVED:
        assert result.method is Method.ADDRESS


def test_a_neighbourhood_alone_still_places_its_unit():
    result = TownResolver(_city()).resolve(make_incident("", "Bayview"))
    assert (result.placement, result.town_code) == (Placement.RESOLVED, N2)


# --- the bundle files -------------------------------------------------------------------------------------------

PORT_ALDER = Path(__file__).resolve().parents[2] / "jurisdictions" / "port-alder"


@pytest.fixture
def city(tmp_path: Path) -> Path:
    target = tmp_path / "port-alder"
    shutil.copytree(PORT_ALDER, target)
    return target


def test_streets_load_into_one_street_per_name(city: Path):
    j = load_bundle(city)
    harbor = next(s for s in j.streets if s.name == "Harbor Street")
    assert harbor.names == ("Harbor Street", "Harbour Street")
    assert {(s.unit_code, s.first, s.last, s.parity) for s in harbor.segments} == {
        ("PA-N1", 1, 1999, Parity.ALL), ("PA-S1", 2000, None, Parity.ALL)}
    assert StreetType("Street", ("St", "Str")) in j.street_types


def _append(directory: Path, file: str, line: str) -> int:
    path = directory / file
    lines = path.read_text(encoding="utf-8").splitlines() + [line]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


BAD_ROWS = [
    # (file, row, field, message fragment)
    ("streets.csv", "Kelp Street,PA-X9,,,all,,", "unit_code", "unknown unit 'PA-X9'"),
    ("streets.csv", "Kelp Street,PA-N1,20,10,all,,", "to_number", "at least from_number (20)"),
    ("streets.csv", "Kelp Street,PA-N1,,,both,,", "parity", "'all', 'odd' or 'even'"),
    ("streets.csv", "Kelp Street,PA-N1,x,,all,,", "from_number", "integer"),
    ("streets.csv", "Harbor Street,PA-N2,1500,2500,all,,", "from_number,to_number,parity", "overlap line 2"),
    ("streets.csv", "harbor street,PA-N2,1998,,even,,", "from_number,to_number,parity", "overlap line 2"),
    ("street_types.csv", "Strand,ST,", "variants", "'st' is already a way of writing line 2's type"),
    ("towns.csv", "900001,Kelp District,district,PA-K1,Kelp,no,", "code",
     "does not match [units] code_pattern"),
    ("gazetteer.csv", "PA-N1-1,Kelp Bed,PA-N1,,,,current,", "code", "does not match [units] code_pattern"),
]


@pytest.mark.parametrize(("file", "row", "field", "fragment"), BAD_ROWS)
def test_a_bad_street_or_unit_row_is_located(city: Path, file, row, field, fragment):
    line = _append(city, file, row)
    problems = check_bundle(city)
    assert {(p.file, p.line, p.field) for p in problems} == {(file, line, field)}
    assert fragment in problems[0].message


def test_streets_on_opposite_sides_do_not_overlap(city: Path):
    _append(city, "streets.csv", "Kelp Street,PA-N1,1,99,odd,,")
    _append(city, "streets.csv", "Kelp Street,PA-S2,1,99,even,,")
    _append(city, "streets.csv", "Kelp Street,PA-S2,100,100,all,,")
    assert check_bundle(city) == []


def test_the_unit_code_pattern_defaults_to_nbs_codes(city: Path):
    manifest = city / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "code_pattern = '^PA-[NS][0-9](-[0-9]{2})?$'", ""), encoding="utf-8")
    problems = check_bundle(city)
    assert Problem("towns.csv", 2, "code",
                   "'PA-N1' does not match [units] code_pattern '^[0-9]{9}([0-9]{3})?$'") in problems


def test_a_unit_code_pattern_must_be_a_regular_expression(city: Path):
    manifest = city / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "code_pattern = '^PA-[NS][0-9](-[0-9]{2})?$'", "code_pattern = '^PA-[NS'"), encoding="utf-8")
    problems = check_bundle(city)
    assert [(p.file, p.field) for p in problems] == [("bundle.toml", "units.code_pattern")]
    assert "not a regular expression" in problems[0].message
