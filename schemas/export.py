"""Write the JSON Schema of every contract, for integrators (`fengqiao schema export DIR`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.case import LabelledCaseV1
from schemas.command import WorkOrderCommandV1, WorkOrderEventV1
from schemas.deadletter import DeadLetterV1
from schemas.decision import RoutingDecisionV1
from schemas.incident import IncidentV1, IncidentV2
from schemas.notification import NotificationV1
from schemas.workorder import ReviewDecidedV1, ReviewQueuedV1, WorkOrderDispatchedV1

CONTRACTS: dict[str, type[BaseModel]] = {
    "incident.v1": IncidentV1,
    "incident.v2": IncidentV2,
    "routing-decision.v1": RoutingDecisionV1,
    "workorder-dispatched.v1": WorkOrderDispatchedV1,
    "review-queued.v1": ReviewQueuedV1,
    "review-decided.v1": ReviewDecidedV1,
    "dead-letter.v1": DeadLetterV1,
    "workorder-command.v1": WorkOrderCommandV1,
    "workorder-event.v1": WorkOrderEventV1,
    "labelled-case.v1": LabelledCaseV1,
    "notification.v1": NotificationV1,
}


def export_schemas(directory: Path) -> list[Path]:
    """Write `<name>.schema.json` per contract into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in CONTRACTS.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$id"] = f"https://fengqiao.invalid/schemas/{name}.schema.json"
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
