"""Bundle tables: the shipped Xiaoshan bundle loads clean; each way of breaking a copy of it
is reported with the right file, line and field."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from router.bundle import BundleError, Problem, check_bundle, load_bundle
from router.domain.jurisdiction import Priority, Verdict

PILOT_TOWNS = {"330109002", "330109003", "330109004", "330109015", "330109113"}  # 北干 蜀山 新塘 盈丰 瓜沥


# --- the shipped bundle -----------------------------------------------------------------


def test_shipped_bundle_has_no_problems(xiaoshan_dir: Path):
    assert check_bundle(xiaoshan_dir) == []


SHIPPED_FACTS = [
    pytest.param(lambda j: (j.name, j.district_code, j.district_centre.code), ("xiaoshan", "330109", "330109"), id="identity"),
    pytest.param(lambda j: len(j.towns), 27, id="27-towns"),
    pytest.param(lambda j: {t.code for t in j.towns if t.onboarded}, PILOT_TOWNS, id="5-pilot-towns"),
    pytest.param(lambda j: sum(not v.retired for v in j.villages), 585, id="585-current-villages"),
    pytest.param(lambda j: {v.name for v in j.villages if v.retired} >= {"商城社区"}, True, id="retired-kept"),
    pytest.param(lambda j: next(v.names for v in j.villages if v.code == "330109102001"), ("凌溪社区", "中心社区"), id="former-name"),
    pytest.param(lambda j: next(v.names for v in j.villages if v.code == "330109002207"), ("荣庄村委会", "荣庄村"), id="short-name"),
    pytest.param(lambda j: next(t.aliases for t in j.towns if t.code == "330109401"), ("萧山开发区", "经济技术开发区"), id="town-aliases"),
    pytest.param(lambda j: {"河庄街道", "义蓬街道"} <= {p.name for p in j.outside}, True, id="hezhuang-yipeng-outside"),
    pytest.param(lambda j: {"河庄街道", "义蓬街道"} & {t.name for t in j.towns}, set(), id="hezhuang-yipeng-not-towns"),
    pytest.param(lambda j: j.district_names[0], "萧山区", id="district-name-first"),
    pytest.param(lambda j: (j.rules.negation_window, "无人" in j.rules.negation_cues), (4, True), id="negation-settings"),
    pytest.param(lambda j: {c.code: c.verdict for c in j.rules.categories}["06"], Verdict.UNCLEAR, id="category-06-unclear"),
    pytest.param(lambda j: next(r for r in j.rules.keywords if r.rule_id == "non_police.municipal").exclusions, ("撞",), id="municipal-exclusion"),
    pytest.param(lambda j: next(r for r in j.rules.keywords if r.rule_id == "police.violence").negatable, True, id="violence-negatable"),
    pytest.param(lambda j: next(r for r in j.rules.keywords if r.rule_id == "police.weapon").priority, Priority.URGENT, id="weapon-urgent"),
    pytest.param(lambda j: j.boundaries, (), id="no-boundaries"),
]


@pytest.mark.parametrize(("fact", "expected"), SHIPPED_FACTS)
def test_shipped_bundle_contents(xiaoshan, fact, expected):
    assert fact(xiaoshan) == expected


# --- breaking a copy --------------------------------------------------------------------


@pytest.fixture
def bundle(tmp_path: Path, xiaoshan_dir: Path) -> Path:
    target = tmp_path / "xiaoshan"
    shutil.copytree(xiaoshan_dir, target)
    return target


@dataclass(frozen=True)
class Edit:
    """Replace the first line of `file` starting with `find` (or append, if `find` is None).

    `apply` returns the 1-based line number it changed, so tests can assert exact lines
    without hard-coding the shipped files' layout.
    """

    file: str
    find: str | None
    new: str | Callable[[str], str]

    def apply(self, directory: Path) -> int:
        path = directory / self.file
        lines = path.read_text(encoding="utf-8").splitlines()
        if self.find is None:
            lines.append(self.new if isinstance(self.new, str) else self.new(""))
            number = len(lines)
        else:
            index = next(i for i, line in enumerate(lines) if line.startswith(self.find))
            lines[index] = self.new if isinstance(self.new, str) else self.new(lines[index])
            number = index + 1
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return number


BROKEN_ROWS = [
    # (edit, file, field, message fragment)
    pytest.param(Edit("towns.csv", "330109004,", lambda l: l.replace("330109004,", "3301O9004,", 1)),
                 "towns.csv", "code", "pattern", id="towns-bad-code"),
    pytest.param(Edit("towns.csv", "330109001,", lambda l: l.replace(",no,", ",maybe,")),
                 "towns.csv", "onboarded", "bool", id="towns-bad-onboarded"),
    pytest.param(Edit("towns.csv", "330109001,", lambda l: l.replace("城厢街道,street", ",street", 1)),
                 "towns.csv", "name", "at least 1", id="towns-empty-name"),
    pytest.param(Edit("gazetteer.csv", "330109004235,", lambda l: l.replace(",330109004,", ",330109999,")),
                 "gazetteer.csv", "town_code", "unknown town", id="gazetteer-unknown-town"),
    pytest.param(Edit("gazetteer.csv", "330109004008,", lambda l: l.replace(",retired,", ",gone,")),
                 "gazetteer.csv", "status", "current", id="gazetteer-bad-status"),
    pytest.param(Edit("keywords.csv", "non_police.move_car,", lambda l: l.replace("挪车|移车|车挡住|堵住车库|占用车位|挡住出口|挡道|挡住了我的车|堵住出口", "")),
                 "keywords.csv", "terms", "at least one term", id="keywords-empty-terms"),
    pytest.param(Edit("keywords.csv", "non_police.move_car,", lambda l: l.replace("挪车|移车|车挡住|堵住车库|占用车位|挡住出口|挡道|挡住了我的车|堵住出口", " | ")),
                 "keywords.csv", "terms", "at least one term", id="keywords-blank-terms"),
    pytest.param(Edit("keywords.csv", "police.fire,", lambda l: l.replace("police.fire,police,", "police.fire,polise,")),
                 "keywords.csv", "verdict", "police", id="keywords-bad-verdict"),
    pytest.param(Edit("keywords.csv", "police.fire,", lambda l: l.replace("police.fire,police,", "police.fire,unclear,")),
                 "keywords.csv", "verdict", "police", id="keywords-unclear-verdict-not-allowed"),
    pytest.param(Edit("keywords.csv", "non_police.noise,", lambda l: l.replace(",normal,no,no,no,", ",normal,no,no,yes,")),
                 "keywords.csv", "acute", "only a police rule", id="keywords-acute-non-police"),
    pytest.param(Edit("keywords.csv", "police.fire,", lambda l: l.replace(",urgent,", ",asap,")),
                 "keywords.csv", "priority", "urgent", id="keywords-bad-priority"),
    pytest.param(Edit("keywords.csv", "police.fire,", lambda l: l.replace("police.fire,", "Police Fire,", 1)),
                 "keywords.csv", "rule_id", "pattern", id="keywords-bad-rule-id"),
    pytest.param(Edit("categories.csv", "05,", lambda l: l.replace(",unclear,", ",maybe,")),
                 "categories.csv", "verdict", "police", id="categories-bad-verdict"),
    pytest.param(Edit("outside.csv", "330108001,", lambda l: l.replace("330108001,", "330109004,")),
                 "outside.csv", "code", "is a town", id="outside-is-a-town"),
    pytest.param(Edit("outside.csv", None, "330199001,新街道,某区,NBS 2023,extra"),
                 "outside.csv", None, "more cells", id="outside-extra-cell"),
]


NO_TOWNS = Problem("towns.csv", None, None, "no towns")


def _consequence(problem: Problem, broken_file: str) -> bool:
    """A problem that only follows from towns.csv being broken: villages of a dropped town."""
    return broken_file == "towns.csv" and (
        problem == NO_TOWNS or (problem.file, problem.field) == ("gazetteer.csv", "town_code")
    )


@pytest.mark.parametrize(("edit", "file", "field", "fragment"), BROKEN_ROWS)
def test_broken_row_is_located(bundle: Path, edit: Edit, file, field, fragment):
    line = edit.apply(bundle)
    problems = [p for p in check_bundle(bundle) if not _consequence(p, file)]
    assert [(p.file, p.line, p.field) for p in problems] == [(file, line, field)]
    assert fragment in problems[0].message


def test_bad_town_row_is_reported_before_its_consequences(bundle: Path):
    line = BROKEN_ROWS[0].values[0].apply(bundle)
    problems = check_bundle(bundle)
    assert (problems[0].file, problems[0].line, problems[0].field) == ("towns.csv", line, "code")
    # 新塘's villages now name an unknown town; each is located too
    assert Problem("gazetteer.csv", problems[1].line, "town_code", "unknown town '330109004'") == problems[1]


DUPLICATE_KEYS = [
    # (file, the row to repeat, key field, key value)
    pytest.param("keywords.csv", "non_police.noise,", "rule_id", "non_police.noise", id="rule-id"),
    pytest.param("towns.csv", "330109001,", "code", "330109001", id="town-code"),
    pytest.param("gazetteer.csv", "330109004235,", "code", "330109004235", id="village-code"),
    pytest.param("categories.csv", "91,", "code", "91", id="category-code"),
    pytest.param("outside.csv", "330108001,", "code", "330108001", id="outside-code"),
]


@pytest.mark.parametrize(("file", "find", "field", "value"), DUPLICATE_KEYS)
def test_duplicate_key_names_both_lines(bundle: Path, file, find, field, value):
    lines = (bundle / file).read_text(encoding="utf-8").splitlines()
    original = next(i + 1 for i, line in enumerate(lines) if line.startswith(find))
    duplicate = Edit(file, None, lines[original - 1]).apply(bundle)
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [(file, original, field), (file, duplicate, field)]
    assert all(f"duplicate {field} {value!r}" == p.message for p in problems)


UNKNOWN_COLUMNS = [
    pytest.param("outside.csv", "code,name,district", "code,name,district,note", "note", id="extra-column"),
    pytest.param("towns.csv", "code,name,kind", lambda l: l.replace("aliases", "alias"), "alias", id="misspelt-column"),
    pytest.param("keywords.csv", "rule_id,", lambda l: l.replace("rule_id", "id"), "id", id="renamed-key-column"),
]


@pytest.mark.parametrize(("file", "find", "new", "field"), UNKNOWN_COLUMNS)
def test_unknown_column(bundle: Path, file, find, new, field):
    Edit(file, find, new).apply(bundle)
    problems = [p for p in check_bundle(bundle) if not _consequence(p, file)]
    # the rest of that file is not read, so no row-level noise follows
    assert problems == [Problem(file, 1, field, "unknown column")]


MISSING_FILES = [
    pytest.param("towns.csv", [Problem("towns.csv", None, None, "file is missing")], id="towns"),
    pytest.param("gazetteer.csv", [Problem("gazetteer.csv", None, None, "file is missing")], id="gazetteer"),
    pytest.param("keywords.csv", [Problem("keywords.csv", None, None, "file is missing")], id="keywords"),
    pytest.param("bundle.toml", [Problem("bundle.toml", None, None, "file is missing")], id="manifest"),
    pytest.param("outside.csv", [], id="outside-optional"),
    pytest.param("categories.csv", [], id="categories-optional"),
]


@pytest.mark.parametrize(("file", "expected"), MISSING_FILES)
def test_missing_file(bundle: Path, file, expected):
    (bundle / file).unlink()
    problems = check_bundle(bundle)
    if file == "towns.csv":
        # no towns also means every gazetteer row names an unknown town; the first problem says why
        assert problems[0] == expected[0]
        assert Problem("towns.csv", None, None, "no towns") in problems
    else:
        assert problems == expected


def test_optional_files_missing_still_loads(bundle: Path):
    (bundle / "outside.csv").unlink()
    (bundle / "categories.csv").unlink()
    j = load_bundle(bundle)
    assert j.outside == ()
    assert j.rules.categories == ()


MANIFEST_ERRORS = [
    # (edit, field, message fragment); line is where the edit landed
    pytest.param(Edit("bundle.toml", "version =", 'version = "2026.11.1'), None, "not valid TOML", id="unterminated-string"),
    pytest.param(Edit("bundle.toml", "negation_window =", "negation_window = = 2"), None, "not valid TOML", id="double-equals"),
    pytest.param(Edit("bundle.toml", "negation_window =", "negation_window = 99"),
                 "classification.negation_window", "less than or equal to 10", id="negation-window-too-big"),
    pytest.param(Edit("bundle.toml", "negation_window =", 'negation_window = "two"'),
                 "classification.negation_window", "integer", id="negation-window-not-int"),
    pytest.param(Edit("bundle.toml", 'name = "xiaoshan"', 'name = "Xiaoshan District"'),
                 "bundle.name", "pattern", id="bad-bundle-name"),
    pytest.param(Edit("bundle.toml", 'code = "330109"', 'code = "33 01 09"'),
                 "district.code", "pattern", id="bad-district-code"),
    pytest.param(Edit("bundle.toml", "timezone =", 'colour = "red"'), "bundle.colour", "Extra inputs", id="unknown-key"),
    pytest.param(Edit("bundle.toml", "keep_location =", 'keep_location = "no"'),
                 "evidence.keep_location", "valid boolean", id="keep-location-not-a-boolean"),
    pytest.param(Edit("bundle.toml", "keep_location =", "keep_gps = true"),
                 "evidence.keep_gps", "Extra inputs", id="evidence-unknown-key"),
]


@pytest.mark.parametrize(("edit", "field", "fragment"), MANIFEST_ERRORS)
def test_manifest_error_is_located(bundle: Path, edit: Edit, field, fragment):
    line = edit.apply(bundle)
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("bundle.toml", line, field)]
    assert fragment in problems[0].message


def test_missing_manifest_key_points_at_its_table(bundle: Path):
    path = bundle / "bundle.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    centre_name = next(i for i, l in enumerate(lines) if l.startswith("name = ") and "治理中心" in l)
    header = lines.index("[district.centre]") + 1
    del lines[centre_name]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert check_bundle(bundle) == [Problem("bundle.toml", header, "district.centre.name", "Field required")]


NOT_UTF8 = [
    pytest.param("gazetteer.csv", id="gazetteer-gbk"),
    pytest.param("towns.csv", id="towns-gbk"),
    pytest.param("bundle.toml", id="manifest-gbk"),
]


@pytest.mark.parametrize("file", NOT_UTF8)
def test_non_utf8_file(bundle: Path, file):
    path = bundle / file
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    problems = [p for p in check_bundle(bundle) if not _consequence(p, file)]
    assert [p.file for p in problems] == [file]
    assert problems[0].line is None
    assert problems[0].message.startswith("not UTF-8")


# --- boundaries.geojson ------------------------------------------------------------------


def _feature(code: object, coordinates: object, kind: str = "Polygon") -> dict:
    return {"type": "Feature", "properties": {"town_code": code}, "geometry": {"type": kind, "coordinates": coordinates}}


_RING = [[120.2, 30.1], [120.3, 30.1], [120.3, 30.2], [120.2, 30.2], [120.2, 30.1]]

BOUNDARY_ERRORS = [
    # (geojson text, line, field, message fragment)
    pytest.param("{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n}", 4, None, "not valid JSON", id="bad-json"),
    pytest.param("[]", None, "features", "FeatureCollection", id="not-an-object"),
    pytest.param(json.dumps({"features": [_feature(None, [_RING])]}), None, "features[0]", "town_code", id="no-town-code"),
    pytest.param(json.dumps({"features": [_feature("330109004", [_RING], "Point")]}), None, "features[0]", "Polygon", id="not-a-polygon"),
    pytest.param(json.dumps({"features": [_feature("330109004", [[[120.2], [120.3, 30.1]]])]}), None,
                 "features[0].geometry.coordinates", "lon, lat", id="short-coordinate"),
    pytest.param(json.dumps({"features": [_feature("330109004", [[["a", "b"]]])]}), None,
                 "features[0].geometry.coordinates", "lon, lat", id="non-numeric-coordinate"),
    pytest.param(json.dumps({"features": [_feature("330109999", [_RING])]}), None,
                 "properties.town_code", "unknown town", id="unknown-town"),
]


@pytest.mark.parametrize(("text", "line", "field", "fragment"), BOUNDARY_ERRORS)
def test_boundary_errors(bundle: Path, text, line, field, fragment):
    (bundle / "boundaries.geojson").write_text(text, encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("boundaries.geojson", line, field)]
    assert fragment in problems[0].message


def test_boundaries_load(bundle: Path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature("330109004", [_RING]),
            _feature("330109113", [[_RING], [_RING]], "MultiPolygon"),
        ],
    }
    (bundle / "boundaries.geojson").write_text(json.dumps(collection), encoding="utf-8")
    j = load_bundle(bundle)
    assert [(b.town_code, len(b.rings)) for b in j.boundaries] == [("330109004", 1), ("330109113", 2)]
    assert j.boundaries[0].rings[0][0] == (120.2, 30.1)


# --- load_bundle and BundleError ---------------------------------------------------------


def test_load_bundle_raises_with_every_problem(bundle: Path):
    town_line = Edit("towns.csv", "330109004,", lambda l: l.replace("330109004,", "3301@9004,", 1)).apply(bundle)
    window_line = Edit("bundle.toml", "negation_window =", "negation_window = 99").apply(bundle)
    with pytest.raises(BundleError) as caught:
        load_bundle(bundle)
    error = caught.value
    assert error.directory == bundle
    assert error.problems == check_bundle(bundle)
    located = {(p.file, p.line, p.field) for p in error.problems}
    assert ("towns.csv", town_line, "code") in located
    assert ("bundle.toml", window_line, "classification.negation_window") in located
    assert f"towns.csv:{town_line}: code:" in str(error)
    assert f"bundle.toml:{window_line}: classification.negation_window:" in str(error)


PROBLEM_STRINGS = [
    pytest.param(Problem("towns.csv", 5, "code", "bad"), "towns.csv:5: code: bad", id="file-line-field"),
    pytest.param(Problem("towns.csv", None, None, "file is missing"), "towns.csv: file is missing", id="file-only"),
    pytest.param(Problem("bundle.toml", 3, None, "not valid TOML"), "bundle.toml:3: not valid TOML", id="file-line"),
]


@pytest.mark.parametrize(("problem", "text"), PROBLEM_STRINGS)
def test_problem_str(problem, text):
    assert str(problem) == text


def test_not_a_directory(tmp_path: Path):
    missing = tmp_path / "nowhere"
    assert check_bundle(missing) == [Problem(str(missing), None, None, "not a directory")]
    with pytest.raises(BundleError):
        load_bundle(missing)


CLASSIFICATION_SETTINGS = [
    # (line added to [classification] after negation_window, attribute, value)
    pytest.param('negation_fillers = "人"', "negation_fillers", "人", id="negation-fillers"),
    pytest.param("negation_window = 3", None, None, id="duplicate-key-is-toml-error"),
]


@pytest.mark.parametrize(("line", "attribute", "value"), CLASSIFICATION_SETTINGS)
def test_classification_settings_reach_the_rules(bundle: Path, line, attribute, value):
    number = Edit("bundle.toml", "negation_window", lambda window: f"{window}\n{line}").apply(bundle) + 1
    if attribute is None:
        assert [(p.line, p.field) for p in check_bundle(bundle)] == [(number, None)]
    else:
        assert getattr(load_bundle(bundle).rules, attribute) == value


def test_evidence_photos_keep_their_location_only_when_the_bundle_says_so(bundle: Path):
    assert load_bundle(bundle).keep_photo_location is False
    Edit("bundle.toml", "keep_location =", "keep_location = true").apply(bundle)
    assert load_bundle(bundle).keep_photo_location is True


def test_the_petition_register_needs_titles(bundle: Path):
    manifest = bundle / "bundle.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r"titles = \[[^]]*\]", "titles = []", text), encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.field) for p in problems] == [("bundle.toml", "classification.petition.titles")], problems


def test_a_key_dispute_type_must_be_a_non_police_matter_type(bundle: Path):
    manifest = bundle / "bundle.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r"key_dispute_matter_types = \[[^]]*\]", 'key_dispute_matter_types = ["邻里纠纷", "火灾"]',
                               text), encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.field) for p in problems] == [("bundle.toml", "merge.key_dispute_matter_types")], problems
    assert "'火灾'" in problems[0].message


def test_a_centre_whose_topic_carries_callers_must_be_a_centre(bundle: Path, xiaoshan):
    manifest = bundle / "bundle.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(re.sub(r"callers_for_centres = \[[^]]*\]", 'callers_for_centres = ["330109004", "330999"]',
                               text), encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.field) for p in problems] == [("bundle.toml", "topics.callers_for_centres")], problems
    assert "'330999'" in problems[0].message
    assert xiaoshan.callers_for_centres == frozenset(
        {"330109002", "330109003", "330109004", "330109015", "330109113"})


# --- [units] code_pattern: one rule for the bundle's codes and the feed's town_code -----------


def test_a_six_digit_town_code_fails_config_check_as_it_would_fail_the_feed(bundle: Path):
    line = Edit("towns.csv", "330109001,", lambda l: l.replace("330109001,", "330109,", 1)).apply(bundle)
    problems = check_bundle(bundle)
    assert problems[0] == Problem("towns.csv", line, "code",
                                  "'330109' does not match [units] code_pattern '^[0-9]{9}([0-9]{3})?$'")


def test_the_bundle_declares_its_own_unit_code_format(bundle: Path):
    manifest = bundle / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n[units]\ncode_pattern = "^[0-9]{9}$"\n',
                        encoding="utf-8")
    problems = check_bundle(bundle)
    assert problems and {(p.file, p.field) for p in problems} == {("gazetteer.csv", "code")}  # 12-digit villages
    assert all("[units] code_pattern '^[0-9]{9}$'" in p.message for p in problems)


def test_a_unit_code_pattern_that_is_no_regular_expression_is_a_manifest_problem(bundle: Path):
    manifest = bundle / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n[units]\ncode_pattern = "^[0-9"\n',
                        encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.field) for p in problems] == [("bundle.toml", "units.code_pattern")]
    assert "not a regular expression" in problems[0].message


def test_the_shipped_bundle_keeps_the_nbs_rule_by_default(xiaoshan):
    assert xiaoshan.unit_code_pattern == r"^[0-9]{9}([0-9]{3})?$"
    assert xiaoshan.is_unit_code("330109001") and not xiaoshan.is_unit_code("B12")
