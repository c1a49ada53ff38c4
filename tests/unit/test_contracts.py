"""Wire contracts: the committed JSON Schemas are current, and decisions always fit their contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pydantic_core
import pytest

from router.domain.incident import Incident
from router.wire import decision_document, decision_of
from schemas.decision import RoutingDecisionV1
from schemas.export import export_schemas

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_the_committed_json_schemas_are_what_the_models_export(tmp_path: Path):
    export_schemas(tmp_path)
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.iterdir()}
    assert fresh == committed, "contracts changed: run `make schemas` and review the diff as an integrator would"


@pytest.mark.parametrize(
    ("summary", "address"),
    [
        pytest.param("有人持刀伤人", "新塘街道", id="police"),
        pytest.param("楼上装修噪音，双方未动手", "新塘街道", id="work-order-own-centre"),
        pytest.param("包工头拖欠工资", "城厢街道", id="work-order-district-fallback"),
        pytest.param("路灯坏了", "紫霞村", id="review-ambiguous"),
        pytest.param("路灯坏了", "滨江区西兴街道", id="review-outside"),
        pytest.param("", "", id="empty"),
    ],
)
def test_every_decision_document_validates_as_routing_decision_v1(router, summary: str, address: str):
    incident = Incident("X1", datetime(2026, 11, 28, tzinfo=UTC), "phone", summary, address)
    document = decision_document(router.route(incident), "2026-11-28T21:00:00+00:00")

    wire = pydantic_core.to_json(document)
    model = RoutingDecisionV1.model_validate_json(wire)

    assert model.incident_id == "X1" and model.bundle == "xiaoshan"
    # Nothing the document carries is dropped, renamed or reshaped by the contract, and it adds nothing
    # (the timestamp is the same instant; pydantic writes UTC as "Z").
    dumped, source = model.model_dump(mode="json"), json.loads(wire)
    assert datetime.fromisoformat(dumped.pop("decided_at")) == datetime.fromisoformat(source.pop("decided_at"))
    assert dumped == source


def test_what_the_bundle_did_not_know_survives_the_contract_both_ways(router):
    incident = Incident("X2", datetime(2031, 1, 5, tzinfo=UTC), "phone", "路灯坏了", "", category_code="X9",
                        town_code="330109999")
    decision = router.route(incident)
    model = RoutingDecisionV1.model_validate_json(pydantic_core.to_json(decision_document(decision, "2031-01-05T00:00:00Z")))

    assert [(u.kind, u.value) for u in model.unknowns] == [
        ("category_code", "X9"), ("unit_code", "330109999"), ("received_year", "2031")]
    assert decision_of(model).unknowns == decision.unknowns


def test_a_decision_recorded_before_unknowns_existed_still_reads(router):
    incident = Incident("X3", datetime(2026, 11, 28, tzinfo=UTC), "phone", "路灯坏了", "新塘街道")
    document = decision_document(router.route(incident), "2026-11-28T21:00:00+00:00")
    del document["unknowns"]
    assert RoutingDecisionV1.model_validate(document).unknowns == ()
