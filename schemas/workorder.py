"""Events that open work (工单派发) and review items (待人工定位)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Event
from schemas.command import ActorV1
from schemas.decision import RoutingDecisionV1
from schemas.incident import IncidentRecord


class WorkOrderDispatchedV1(Event):
    """A work order was opened and dispatched (派单) to a command centre.

    Topics `workorders.events.v1` (all) and `towns.<centre_code>.orders.v1` (that centre's).
    """

    event_type: Literal["workorder.dispatched"] = "workorder.dispatched"
    order_id: str = Field(description="Work-order number (工单编号), unique.")
    town_code: str = Field(description="The town that owns the matter.")
    centre_code: str = Field(description="The centre that receives it: the town's own, or the district's.")
    matter_type: str
    priority: Literal["urgent", "high", "normal", "low"]
    incident: IncidentRecord = Field(description="The incident as received, v1 or v2 (includes personal data).")
    decision: RoutingDecisionV1


class ReviewQueuedV1(Event):
    """A non-police incident whose town could not be decided waits for the district dispatcher."""

    event_type: Literal["review.queued"] = "review.queued"
    review_id: str
    centre_code: str
    reason: Literal["town_ambiguous", "town_unresolved", "outside_jurisdiction"]
    incident: IncidentRecord
    decision: RoutingDecisionV1


class ReviewDecidedV1(Event):
    """The district decided a review item (区中心处置): placed in a town (定位派单), merged into an order
    (并单), or marked a police matter (转警务). Topic `incidents.review.v1`, keyed by incident id."""

    event_type: Literal["review.decided"] = "review.decided"
    review_id: str
    incident_id: str
    outcome: Literal["placed", "merged", "police"]
    town_code: str | None = Field(None, description="The town whose order it now is (placed, merged).")
    order_id: str | None = Field(None, description="The order it opened or was merged into (placed, merged).")
    actor: ActorV1 = Field(description="The district account that decided.")
