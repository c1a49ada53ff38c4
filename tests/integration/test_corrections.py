"""Learning from the loop (issue 9): returns and transfers that say a routing decision was wrong become
labelled cases (`fengqiao cases export`) that `fengqiao eval` scores, and the board counts them per rule
and month — on PostgreSQL, driven over HTTP as the console does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router.store.corrections import POLICE, TOWN, corrections
from schemas.case import LabelledCaseV1
from workers.cli import app

pytestmark = pytest.mark.integration

XINTANG, BEIGAN, GUALI = "330109004", "330109002", "330109113"


def _post(client, order_id: str, path: str, body: dict) -> dict:
    response = client.post(f"/api/v1/orders/{order_id}/{path}", json=body)
    assert response.status_code == 200, f"{path}: {response.text}"
    return response.json()["order"]


@pytest.fixture
def corrected(api):
    """Three corrections and two returns that are not misroutes."""
    op, dispatcher = api.client("xintang-op"), api.client("district-dispatcher")
    wrong_town = api.open_order(summary="楼上装修噪音扰民，电话13912345678", address="萧山区新塘街道")
    _post(op, wrong_town, "return", {"reason_code": "R01", "text": "属北干街道"})
    _post(dispatcher, wrong_town, "return-decision", {"approved": True, "target_town": BEIGAN})
    transferred = api.open_order(summary="路灯坏了好几天", address="萧山区新塘街道")
    _post(dispatcher, transferred, "transfer", {"target_town": GUALI, "text": "实为瓜沥镇"})
    police = api.open_order(summary="邻居吵架，对方说要来我家讨说法", address="萧山区新塘街道")
    _post(op, police, "return", {"reason_code": "R05", "text": "对方已持械上门"})
    _post(dispatcher, police, "withdraw", {"text": "转公安处置"})
    duplicate = api.open_order(summary="小区门禁坏了", address="萧山区新塘街道")
    _post(op, duplicate, "return", {"reason_code": "R04", "text": "重复工单"})
    _post(dispatcher, duplicate, "return-decision", {"approved": True, "target_town": BEIGAN})
    rejected = api.open_order(summary="小区电梯故障", address="萧山区新塘街道")
    _post(op, rejected, "return", {"reason_code": "R01", "text": "不是我们的"})
    _post(dispatcher, rejected, "return-decision", {"approved": False, "text": "地址属新塘"})
    return {"wrong_town": wrong_town, "transferred": transferred, "police": police}


def test_only_misroutes_are_corrections(api, corrected):
    misroutes = api.jurisdiction.loop.lifecycle.misroutes
    assert dict(misroutes) == {"R01": TOWN, "R05": POLICE}
    with api.engine.connect() as conn:
        found = corrections(conn, misroutes)
    by_order = {c.order_id: c for c in found}
    assert set(by_order) == set(corrected.values())  # the R04 return and the refused R01 are not misroutes
    assert (by_order[corrected["wrong_town"]].misroute, by_order[corrected["wrong_town"]].to_town) == (TOWN, BEIGAN)
    assert (by_order[corrected["transferred"]].action, by_order[corrected["transferred"]].to_town) == ("transfer", GUALI)
    assert by_order[corrected["police"]].misroute == POLICE
    assert by_order[corrected["wrong_town"]].rule_id == "non_police.noise"  # the rule that sent it wrong


def test_exported_cases_carry_the_wrong_decision_and_eval_reads_them(api, corrected, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", api.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    exported = runner.invoke(app, ["cases", "export"])
    assert exported.exit_code == 0, exported.output
    cases = {c.decided.incident_id: c for c in map(LabelledCaseV1.model_validate_json, exported.output.splitlines())}
    assert len(cases) == 3
    noise = next(c for c in cases.values() if c.kind == "loop/non_police.noise")
    assert (noise.expect_class, noise.expect_where, noise.expect_town_code) == ("non_police", "work_order", BEIGAN)
    assert noise.decided.town_code == XINTANG  # where it was wrongly sent
    assert "13912345678" not in noise.summary  # phone numbers masked in exported text
    police = next(c for c in cases.values() if c.expect_class == "police")
    assert police.decided.outcome == "work_order"
    path = tmp_path / "loop.jsonl"
    path.write_text(exported.output, encoding="utf-8")
    scored = runner.invoke(app, ["eval", "-j", str(Path(__file__).parents[2] / "jurisdictions" / "xiaoshan"),
                                 str(path), "--json"])
    assert scored.exit_code == 0, scored.output
    card = json.loads(scored.output)
    assert card["total"]["cases"] == 3
    # the same bundle still decides the same way: the loop's cases show what to fix
    assert card["total"]["wrong_town"] == 2 and card["total"]["police_kept"] == 0


def test_the_board_counts_misroutes_per_rule_for_district_roles_only(api, corrected):
    rows = api.client("district-supervisor").get("/api/v1/misroutes").json()
    month = f"{api.clock().astimezone(api.jurisdiction.loop.calendar.timezone):%Y-%m}"
    assert {(r["month"], r["rule_id"], r["wrong_town"], r["police"]) for r in rows} == {
        (month, "non_police.noise", 1, 0), (month, "non_police.municipal", 1, 0), (month, "non_police.dispute", 0, 1)}
    csv = api.client("district-dispatcher").get("/api/v1/misroutes", params={"format": "csv"})
    assert csv.status_code == 200 and "派错镇街" in csv.text and "non_police.noise" in csv.text
    assert api.client("xintang-op").get("/api/v1/misroutes").status_code == 403


def test_the_districts_review_decisions_are_labelled_cases_and_not_misroutes(api, monkeypatch: pytest.MonkeyPatch):
    dispatcher = api.client("district-dispatcher")
    placed, police = api.queue_review("RVC1"), api.queue_review("RVC2", "小区门口垃圾堆了好几天，电话13912345678")
    assert dispatcher.post(f"/api/v1/reviews/{placed}/place", json={"town_code": GUALI}).status_code == 200
    assert dispatcher.post(f"/api/v1/reviews/{police}/police", json={}).status_code == 200
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", api.engine.url.render_as_string(hide_password=False))
    exported = CliRunner().invoke(app, ["cases", "export"])
    assert exported.exit_code == 0, exported.output
    cases = {c.case_id: c for c in map(LabelledCaseV1.model_validate_json, exported.output.splitlines())}
    assert set(cases) == {f"{placed}-placed", f"{police}-police"}
    town = cases[f"{placed}-placed"]
    assert (town.expect_where, town.expect_town_code, town.kind) == ("work_order", GUALI, "review/town_unresolved")
    assert town.decided.outcome == "review"  # the engine's own decision: it did not guess
    assert (cases[f"{police}-police"].expect_where, cases[f"{police}-police"].expect_class) == ("police", "police")
    assert "13912345678" not in cases[f"{police}-police"].summary
    assert dispatcher.get("/api/v1/misroutes").json() == []
