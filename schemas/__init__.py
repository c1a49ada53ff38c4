"""Wire contracts (pydantic v2) that integrators see; versioned with their topics.

| model | topic | direction |
|---|---|---|
| `IncidentV1` | `incidents.v1` | feed → Fengqiao |
| `IncidentV2` | `incidents.v1` | feed → Fengqiao (the wider contract, `schema: incident.v2`) |
| (the incident, unchanged) | `police.v1` | Fengqiao → police dispatch |
| `WorkOrderDispatchedV1` | `workorders.events.v1`, `towns.<centre>.orders.v1` | Fengqiao → towns |
| `ReviewQueuedV1` | `incidents.review.v1` | Fengqiao → district centre |
| `ReviewDecidedV1` | `incidents.review.v1` | Fengqiao → district centre, integrators |
| `DeadLetterV1` | `incidents.dlq.v1`, `workorders.commands.dlq.v1` | Fengqiao → integrators |
| `WorkOrderCommandV1` | `workorders.commands.v1` | town systems → Fengqiao |
| `WorkOrderEventV1` | `workorders.events.v1`, `towns.<centre>.orders.v1` | Fengqiao → towns, supervisors |
| `NotificationV1` | webhook POST (notify.csv), not a topic | Fengqiao → SMS / 浙政钉 gateways |
"""

from schemas.deadletter import DeadLetterReason, DeadLetterV1
from schemas.decision import RoutingDecisionV1
from schemas.incident import CallerV1, Channel, IncidentV1, IncidentV2, LocationV1
from schemas.notification import NotificationV1
from schemas.workorder import ReviewDecidedV1, ReviewQueuedV1, WorkOrderDispatchedV1

__all__ = [
    "CallerV1",
    "Channel",
    "DeadLetterReason",
    "DeadLetterV1",
    "IncidentV1",
    "IncidentV2",
    "LocationV1",
    "NotificationV1",
    "ReviewDecidedV1",
    "ReviewQueuedV1",
    "RoutingDecisionV1",
    "WorkOrderDispatchedV1",
]
