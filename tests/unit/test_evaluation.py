"""`fengqiao eval`: the scorecard's figures on a small hand-labelled file, its worst cases by harm,
JSON for machines, and a bad case file named by line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router.domain.routing import Router
from router.evaluation import CRIME_DIVERTED, FORCED_TOWN, KEPT_AS_POLICE, WRONG_TOWN, evaluate
from schemas.case import LabelledCaseV1
from workers.cli import app
from workers.evaluation_report import CaseFileError, read_cases

XINTANG, GUALI = "330109004", "330109113"


def _case(case_id: str, summary: str, expect_class: str, where: str, town: str | None = None, address: str = "",
          kind: str = "hand/x") -> dict:
    return {"case_id": case_id, "summary": summary, "address": address, "expect_class": expect_class,
            "expect_town_code": town, "expect_where": where, "kind": kind}


CASES = [
    _case("c1", "两名男子在路边打架，一人流血", "police", "police", kind="hand/暴力"),
    _case("c2", "对方隐瞒真实身份骗得三万元", "police", "police", kind="hand/诈骗"),
    _case("c3", "楼上装修噪音太大", "non_police", "work_order", XINTANG, "萧山区新塘街道傅楼村", kind="hand/噪音"),
    _case("c4", "楼上装修噪音太大", "non_police", "work_order", GUALI, "萧山区新塘街道傅楼村", kind="hand/噪音"),
    _case("c5", "路灯坏了", "non_police", "review", None, "萧山区新塘街道", kind="other/市政"),
    _case("c6", "报警人来电后挂断", "non_police", "review", kind="other/不明"),
    _case("c7", "路灯坏了", "non_police", "review", kind="other/市政"),
]


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CASES), encoding="utf-8")
    return path


def test_figures_and_harms(xiaoshan, case_file: Path):
    card = evaluate(Router(xiaoshan), read_cases(case_file))
    t = card.total
    assert (t.cases, t.police, t.police_kept, t.non_police, t.diverted) == (7, 2, 2, 5, 4)
    assert (t.with_town, t.right_town, t.wrong_town) == (2, 1, 1)
    assert (t.without_town, t.forced_town) == (5, 1)  # c5: a town named, but the case says its place is unknown
    assert card.by_source["hand"].cases == 4 and card.by_source["other"].cases == 3
    assert card.confusion["hand/噪音"] == {"噪音扰民": 2}
    assert card.confusion["hand/暴力"] == {"警务": 1}
    assert [m.case.case_id for m in card.misses[WRONG_TOWN]] == ["c4"]
    assert [m.case.case_id for m in card.misses[FORCED_TOWN]] == ["c5"]
    assert [m.case.case_id for m in card.misses[KEPT_AS_POLICE]] == ["c6"]
    assert card.misses[CRIME_DIVERTED] == []
    assert [m.harm for m in card.worst(10)] == [WRONG_TOWN, FORCED_TOWN, KEPT_AS_POLICE]


def test_a_crime_sent_to_a_town_is_the_worst_case(xiaoshan, tmp_path: Path):
    path = tmp_path / "crime.jsonl"
    rows = [_case("n1", "报警人来电后挂断", "non_police", "review"),
            _case("p1", "楼上装修噪音太大", "police", "police", address="萧山区新塘街道")]
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in rows), encoding="utf-8")
    card = evaluate(Router(xiaoshan), read_cases(path))
    assert [(m.harm, m.case.case_id) for m in card.worst(1)] == [(CRIME_DIVERTED, "p1")]
    assert card.total.police_recall == 0.0


runner = CliRunner()


def test_the_command_prints_the_tables_and_the_worst_cases(case_file: Path, xiaoshan_dir: Path):
    result = runner.invoke(app, ["eval", "-j", str(xiaoshan_dir), str(case_file), "--worst", "2"])
    assert result.exit_code == 0, result.output
    assert "police kept (recall)" in result.output
    assert "2/2 = 100.0 %" in result.output and "4/5 = 80.0 %" in result.output
    assert "worst cases (2 of 3 wrong)" in result.output
    assert "[wrong_town] c4 hand/噪音: work_order 330109004" in result.output


def test_json_for_machines(case_file: Path, xiaoshan_dir: Path):
    result = runner.invoke(app, ["eval", "-j", str(xiaoshan_dir), str(case_file), "--json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert card["total"]["police_recall"] == 1.0
    assert card["total"]["diverted_share"] == pytest.approx(0.8)
    assert card["by_kind"]["hand/噪音"]["wrong_town"] == 1
    assert [w["case_id"] for w in card["worst"]] == ["c4", "c5", "c6"]
    assert card["worst"][0]["rule_ids"][0] == "non_police.noise"


BAD_LINES = [
    pytest.param({"expect_class": "maybe"}, "expect_class", id="bad-class"),
    pytest.param({"expect_where": "work_order"}, "(record)", id="work-order-needs-a-town"),
    pytest.param({"expect_town_code": "33 01"}, "expect_town_code", id="bad-town-code"),
]


@pytest.mark.parametrize(("change", "field"), BAD_LINES)
def test_a_bad_case_is_named_by_file_line_and_field(tmp_path: Path, xiaoshan_dir: Path, change, field):
    path = tmp_path / "bad.jsonl"
    good = _case("g", "路灯坏了", "non_police", "review")
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n\n" + json.dumps({**good, **change}) + "\n")
    with pytest.raises(CaseFileError, match=re.escape(f"bad.jsonl:3: {field}")):
        list(read_cases(path))
    result = runner.invoke(app, ["eval", "-j", str(xiaoshan_dir), str(path)])
    assert result.exit_code == 2
    assert f"bad.jsonl:3: {field}" in result.output


def test_generated_cases_carry_the_generators_truth(xiaoshan_dir: Path):
    result = runner.invoke(app, ["cases", "generate", "-j", str(xiaoshan_dir), "-n", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    cases = [LabelledCaseV1.model_validate_json(line) for line in result.output.splitlines()]
    assert len(cases) == 300
    assert {c.expect_where for c in cases} == {"police", "work_order", "review"}
    again = runner.invoke(app, ["cases", "generate", "-j", str(xiaoshan_dir), "-n", "300", "--seed", "7"])
    assert again.output == result.output


def test_no_cases_are_generated_for_a_bundle_the_generator_has_no_texts_for(xiaoshan_dir: Path):
    result = runner.invoke(app, ["cases", "generate", "-j", str(xiaoshan_dir.parent / "port-alder"), "-n", "5"])
    assert result.exit_code == 3  # `make eval` then scores the bundle's own cases alone
    assert result.stdout == ""
    assert "no rule term in Chinese" in result.stderr
