"""The committed OpenAPI document (docs/openapi.json) is the one the API serves."""

from __future__ import annotations

import json
from pathlib import Path

from api.openapi import document, render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REGENERATE = "make schemas"


def test_the_committed_openapi_document_is_what_the_app_serves():
    assert COMMITTED.read_text(encoding="utf-8") == render(), \
        f"the API changed: regenerate with `{REGENERATE}` and review the diff as an integrator would"


def test_the_document_describes_every_route_with_its_errors():
    paths = document()["paths"]
    assert "/api/v1/orders/{order_id}/acknowledge" in paths and "/api/v1/rankings/monthly" in paths
    assert json.loads(COMMITTED.read_text(encoding="utf-8"))["info"]["title"] == "Fengqiao 枫桥 API"
    for path, operations in paths.items():
        for method, operation in operations.items():
            problem = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
            assert problem.get("schema") == {"$ref": "#/components/schemas/Problem"}, f"{method} {path}"
            assert "401" in operation["responses"] or path == "/api/v1/session" and method == "post"
