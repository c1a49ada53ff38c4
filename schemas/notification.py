"""The webhook notification (提醒) a district's SMS or 浙政钉 gateway receives: `notification.v1`.

POSTed as the request body, UTF-8 JSON, with the headers `Idempotency-Key` (the
`notification_id`, repeated on every retry) and, when the webhook has a secret,
`X-Fengqiao-Signature: sha256=<hex HMAC-SHA256 of the body>`. No caller's name or phone: the
summary is masked as for roles that see no callers (docs/integration.md).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.base import Contract


class NotificationV1(Contract):
    """Something a unit should act on now: a new order, an SLA warning, a breach, an escalation."""

    schema_: Literal["notification.v1"] = Field("notification.v1", alias="schema")
    notification_id: UUID = Field(description="Unique per notification and webhook; every retry repeats it, so a "
                                              "gateway de-duplicates by it (also the Idempotency-Key header).")
    event: Literal["new_order", "warning", "breach", "escalation"] = Field(
        description="new_order 新工单 (派单, 改派, 转派), warning 预警, breach 超时, escalation 催办/督办/通报.")
    occurred_at: AwareDatetime = Field(description="When Fengqiao committed the fact.")
    unit_code: str = Field(description="The unit this webhook belongs to: a town, a centre or the district centre.")
    title: str = Field(description="A short Chinese heading, e.g. 新工单 or 签收超时.")
    text: str = Field(description="A ready-to-send Chinese message (SMS length), masked like `summary`.")
    order_id: str = Field(description="Work-order number (工单编号).")
    town_code: str
    town_name: str
    centre_code: str
    matter_type: str
    priority: Literal["urgent", "high", "normal", "low"]
    summary: str = Field(description="简要情况 with callers' names and every phone or ID number masked "
                                     "(王**, 139****5678).")
    address: str = Field(description="The incident's address, numbers masked the same way.")
    stage: Literal["acknowledge", "report", "resolve"] | None = Field(
        None, description="SLA events: the clock (签收, 反馈, 办结).")
    sla_kind: str | None = Field(None, description="SLA events: warning_80, breach, escalation.remind ...")
    due_at: AwareDatetime | None = Field(None, description="SLA events: the deadline the effect belongs to.")
