"""`check_bundle` on a small bundle of a US-style district: every validator message, table-driven,
errors apart from warnings; and mutated bundles (random bytes, deleted columns, bad TOML values)
that must come back as problems, never as an exception."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.bundle import BundleError, Problem, check_bundle, load_bundle, read_bundle
from router.bundle.timezones import nearest_zones

MANIFEST = """\
[bundle]
name = "harbor"
version = "1"
timezone = "America/Los_Angeles"

[district]
code = "060730"
name = "Harbor City"
names = ["Harbor"]

[district.centre]
code = "dispatch"
name = "Harbor City Communications Center"
"""

FILES = {
    "bundle.toml": MANIFEST,
    "towns.csv": (
        "code,name,kind,centre_code,centre_name,onboarded,aliases\n"
        "060730001,Northern Division,precinct,north,Northern Division Desk,yes,Northern|North Side\n"
        "060730002,Southern Division,precinct,south,Southern Division Desk,no,\n"
        "060730003,Bay Beat,beat,north,Northern Division Desk,yes,\n"
    ),
    "gazetteer.csv": (
        "code,name,town_code,short_name,aliases,former_names,status,source\n"
        "060730001001,Old Town,060730001,,Oldtown,,current,city planning 2024\n"
        "060730002001,Logan Heights,060730002,Logan,,,current,city planning 2024\n"
    ),
    "keywords.csv": (
        "rule_id,verdict,matter_type,priority,negatable,weak,acute,terms,context,exclusions,source\n"
        "police.violence,police,violence,urgent,yes,no,yes,assault|stabbing,,,penal code\n"
        "non_police.noise,non_police,noise,normal,no,no,no,loud music|barking,,,municipal code\n"
    ),
    "categories.csv": (
        "code,name,verdict,matter_type,priority,source\n"
        "415,Disturbance,unclear,disturbance,normal,CAD type codes\n"
        "NP1,Noise complaint,non_police,noise,low,CAD type codes\n"
    ),
    "sla.csv": (
        "matter_type,priority,acknowledge_minutes,report,report_unit,resolve,resolve_unit,clock_start,warn_at,source\n"
        "*,*,30,24,hours,5,working_days,dispatch,0.8,default\n"
        "noise,*,15,4,hours,2,working_days,dispatch,0.8,noise ordinance\n"
    ),
    "escalation.csv": "step,kind,after_minutes,target,name\n1,remind,0,centre,remind\n",
    "return_reasons.csv": "code,name,misroute\nR01,not ours,town\n",
    "calendar/us-2026.csv": "date,kind,name,source\n2026-07-03,holiday,Independence Day (observed),OPM 2026\n",
    "calendar/us-2027.csv": "date,kind,name,source\n2027-07-05,holiday,Independence Day (observed),OPM 2027\n",
    "cases/sample.jsonl": '{"case_id": "c1", "summary": "loud music", "category_code": "NP1"}\n',
}


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def harbor(tmp_path: Path) -> Path:
    return _write(tmp_path / "harbor", FILES)


def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if line.startswith(start))


def test_the_small_bundle_is_clean(harbor: Path):
    assert check_bundle(harbor, year=2026) == []
    j = load_bundle(harbor)
    assert {t.centre.code for t in j.towns} == {"north", "south"}


# (file, line to change, its replacement, field, fragment, warning?)
MESSAGES = [
    pytest.param("bundle.toml", "timezone =", 'timezone = "PST"', "bundle.timezone",
                 "'PST' is no IANA time zone name", False, id="timezone-abbreviation"),
    pytest.param("bundle.toml", "timezone =", 'timezone = "America/San_Diego"', "bundle.timezone",
                 "nearest: America/Santiago", False, id="timezone-no-such-city"),
    pytest.param("bundle.toml", "timezone =", 'timezone = "america/los_angeles"', "bundle.timezone",
                 "nearest: America/Los_Angeles", False, id="timezone-case"),
    pytest.param("bundle.toml", "timezone =", "timezone = 8", "bundle.timezone", "valid string", False,
                 id="timezone-not-a-string"),
    pytest.param("bundle.toml", 'code = "dispatch"', 'code = "comm center"', "district.centre.code", "pattern",
                 False, id="district-centre-code-not-a-topic-name"),
    pytest.param("towns.csv", "060730003,", "060730003,Bay Beat,precint,north,Northern Division Desk,yes,",
                 "kind", "must be one of town, street", False, id="kind-outside-the-set"),
    pytest.param("towns.csv", "060730003,", "060730003,Bay Beat,beat,north desk,Northern Division Desk,yes,",
                 "centre_code", "pattern", False, id="centre-code-with-a-space"),
    pytest.param("towns.csv", "060730002,", "060730002,Southern Division,precinct,060730003,Bay Desk,no,",
                 "centre_code", "names town Bay Beat (060730003), which is no centre", False,
                 id="centre-code-is-a-town-without-its-own-centre"),
    pytest.param("towns.csv", "060730002,", "060730002,Southern Division,precinct,060730,South Desk,no,",
                 "centre_code", "is the district's code, not its centre's", False, id="centre-code-is-the-district"),
    pytest.param("towns.csv", "060730003,", "060730003,Bay Beat,beat,north,North Desk,yes,",
                 "centre_name", "centre 'north' is already named 'Northern Division Desk' (line 2)", False,
                 id="one-centre-two-names"),
    pytest.param("towns.csv", "060730002,", "060730002,Southern Division,precinct,dispatch,Comms,no,",
                 "centre_name", "([district.centre] in bundle.toml)", False, id="district-centre-renamed"),
    pytest.param("towns.csv", "060730003,", "060730003,Bay Beat,beat,north,Northern Division Desk,yes,North Side",
                 "aliases", "'North Side' already names town 060730001 (line 2)", False, id="alias-of-two-towns"),
    pytest.param("towns.csv", "060730003,", "060730003,Northern,beat,north,Northern Division Desk,yes,",
                 "name", "'Northern' already names town 060730001", False, id="name-is-another-towns-alias"),
    pytest.param("towns.csv", "060730002,", "060730002,Southern Division,precinct,south,Southern Division Desk,no,"
                 "South|South", "aliases", "'South' is listed twice for this row", True, id="alias-twice"),
    pytest.param("gazetteer.csv", "060730002001,", "060730002001,Logan Heights,060730002,Logan,Logan,,current,x",
                 "aliases", "'Logan' is listed twice for this row", True, id="village-short-name-is-alias"),
    pytest.param("gazetteer.csv", "060730002001,", "060730002001,Old Town,060730001,,,,current,x", "name",
                 "town 060730001 already has a village 'Old Town' (line 2)", True, id="two-villages-one-name"),
    pytest.param("keywords.csv", "non_police.noise,", "non_police.noise,non_police,noise,normal,no,no,no,"
                 "loud music|barking,,barking,x", "terms", "'barking' never counts", True, id="term-is-exclusion"),
    pytest.param("keywords.csv", "non_police.noise,", "non_police.noise,non_police,noise,normal,no,no,no,"
                 "barking,,barking,x", "terms", "rule non_police.noise can never fire: every term", False,
                 id="every-term-excluded"),
    pytest.param("keywords.csv", "non_police.noise,", "non_police.noise,non_police,noise,normal,no,no,no,"
                 "barking,night,night,x", "context", "every context word is also one of its exclusions", False,
                 id="every-context-excluded"),
    pytest.param("sla.csv", "noise,", "parking,*,15,4,hours,2,working_days,dispatch,0.8,x", "matter_type",
                 "'parking' is no matter type of a non-police rule or category: this row never applies", True,
                 id="sla-row-never-applies"),
    pytest.param("cases/sample.jsonl", '{"case_id"', '{"case_id": "c1", "summary": "x", "category_code": "999"}',
                 "category_code", "unknown category '999'", True, id="case-names-an-unknown-category"),
    pytest.param("cases/sample.jsonl", '{"case_id"', '{"case_id": "c1",', None, "not valid JSON", True,
                 id="case-not-json"),
]


@pytest.mark.parametrize(("file", "find", "new", "field", "fragment", "is_warning"), MESSAGES)
def test_every_message(harbor: Path, file, find, new, field, fragment, is_warning):
    path = harbor / file
    text = path.read_text(encoding="utf-8")
    line = _line_of(text, find)
    lines = text.splitlines()
    lines[line - 1] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    jurisdiction, problems = read_bundle(harbor, year=2026)

    assert [(p.file, p.line, p.field, p.warning) for p in problems] == [(file, line, field, is_warning)]
    assert fragment in problems[0].message
    assert (jurisdiction is not None) is is_warning
    shown = str(problems[0])
    assert shown.startswith(f"{file}:{line}: " + (f"{field}: " if field else ""))
    assert ("warning: " in shown) is is_warning


def test_a_calendar_must_cover_this_year_and_the_next(harbor: Path):
    assert check_bundle(harbor, year=2026) == []
    assert [str(p) for p in check_bundle(harbor, year=2027)] == [
        "calendar/: warning: no calendar for 2028: a working-day deadline that reaches into it fails (CalendarGap) "
        "rather than guess; add calendar/<region>-2028.csv"]
    assert [p.message.split(":")[0] for p in check_bundle(harbor, year=2030)] == [
        "no calendar for 2030", "no calendar for 2031"]
    assert check_bundle(harbor) == []  # no clock given: not checked
    load_bundle(harbor, year=2030)  # a warning does not refuse the bundle


def test_load_bundle_refuses_on_errors_and_keeps_the_warnings_beside_them(harbor: Path):
    towns = harbor / "towns.csv"
    towns.write_text(towns.read_text(encoding="utf-8").replace(",beat,", ",bait,"), encoding="utf-8")
    with pytest.raises(BundleError) as caught:
        load_bundle(harbor, year=2030)
    assert [p.warning for p in caught.value.problems] == [False, True, True]
    assert "towns.csv:4: kind: Value error, must be one of" in str(caught.value)
    assert "calendar/: warning: no calendar for 2030" in str(caught.value)


NEAREST = [
    pytest.param("PST", "America/Los_Angeles", id="pst"),
    pytest.param("CST", "Asia/Shanghai", id="cst-china-first"),
    pytest.param("Europe/Londn", "Europe/London", id="typo"),
    pytest.param("asia/shanghai", "Asia/Shanghai", id="case"),
]


@pytest.mark.parametrize(("text", "expected"), NEAREST)
def test_nearest_zones(text, expected):
    nearest = nearest_zones(text)
    assert expected in nearest
    assert len(nearest) <= 4


def test_nothing_near_nonsense():
    assert nearest_zones("qqqqqqqq") == []


# --- mutated bundles: problems, never an exception ----------------------------------------

_MARK = "@@cell@@"
CSV_FILES = [name for name in FILES if name.endswith(".csv")]
TOML_VALUES = ['"PST"', "8", "-1", "true", "[]", '["x"]', "{}", '"', "1e999", '"\\u0000"', "nan", "2026-01-01"]


def _mutated_cell(text: str, row: int, column: int, junk: str) -> str:
    lines = text.splitlines() or [""]
    at = row % len(lines)
    cells = lines[at].split(",")
    cells[column % len(cells)] = junk
    lines[at] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _deleted_column(text: str, column: int) -> str:
    rows = [line.split(",") for line in text.splitlines()] or [[""]]
    at = column % len(rows[0])
    return "\n".join(",".join(cells[:at] + cells[at + 1:]) for cells in rows) + "\n"


def _bad_toml_value(text: str, row: int, value: str) -> str:
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if "=" in line]
    if not keyed:
        return f"{text}\nkey = {value}\n"
    at = keyed[row % len(keyed)]
    lines[at] = f"{lines[at].split('=')[0]}= {value}"
    return "\n".join(lines) + "\n"


MUTATION = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(CSV_FILES), st.integers(0, 10), st.integers(0, 12),
              st.binary(max_size=12)),
    st.tuples(st.just("column"), st.sampled_from(CSV_FILES), st.integers(0, 12)),
    st.tuples(st.just("toml"), st.integers(0, 20), st.sampled_from(TOML_VALUES)),
    st.tuples(st.just("bytes"), st.sampled_from([*FILES, "boundaries.geojson"]), st.binary(max_size=40)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(MUTATION, min_size=1, max_size=3))
def test_a_mutated_bundle_gives_problems_never_an_exception(tmp_path: Path, mutations):
    directory = _write(tmp_path / "mutated", FILES)
    try:
        for mutation in mutations:
            kind, *args = mutation
            if kind == "cell":
                name, row, column, junk = args
                text = (directory / name).read_text(encoding="utf-8", errors="replace")
                marked = _mutated_cell(text, row, column, _MARK).encode()
                (directory / name).write_bytes(marked.replace(_MARK.encode(), junk))
            elif kind == "column":
                name, column = args
                text = (directory / name).read_text(encoding="utf-8", errors="replace")
                (directory / name).write_text(_deleted_column(text, column), encoding="utf-8")
            elif kind == "toml":
                row, value = args
                text = (directory / "bundle.toml").read_text(encoding="utf-8", errors="replace")
                (directory / "bundle.toml").write_text(_bad_toml_value(text, row, value), encoding="utf-8")
            else:
                name, junk = args
                (directory / name).write_bytes(junk)
        problems = check_bundle(directory, year=2026)
        assert all(isinstance(p, Problem) and str(p) for p in problems)
        jurisdiction, again = read_bundle(directory, year=2026)
        assert again == problems
        assert (jurisdiction is None) == any(not p.warning for p in problems)
    finally:
        shutil.rmtree(directory)


@pytest.mark.parametrize("feature", [
    pytest.param('{"type": "Feature", "properties": ["060730001"], "geometry": null}', id="properties-a-list"),
    pytest.param('{"type": "Feature", "properties": {"town_code": "060730001"}, "geometry": [1, 2]}',
                 id="geometry-a-list"),
])
def test_a_malformed_boundary_feature_is_a_problem(harbor: Path, feature):
    (harbor / "boundaries.geojson").write_text(f'{{"type": "FeatureCollection", "features": [{feature}]}}',
                                               encoding="utf-8")
    assert [str(p) for p in check_bundle(harbor)] == [
        "boundaries.geojson: features[0]: needs properties.town_code and a (Multi)Polygon"]
