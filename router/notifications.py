"""Queueing webhook notifications (提醒): one row per fact and webhook, in the fact's own transaction.

Like an outbox row, a notification commits or rolls back with the fact it tells (an order
opened, handed to another town, a timer fired), so none is lost and none tells of a fact that
did not happen; its id derives from the fact's event id and the webhook, so a retried
transaction cannot queue it twice. The body is final here, masked as for roles that see no
callers, and the delivery loop (`workers/webhooks.py`) sends exactly these bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from router.domain.jurisdiction import Jurisdiction
from router.domain.notify import NotifyEvent
from router.domain.privacy import mask_text
from router.domain.sla import STAGE_TERMS, sla_term
from router.ids import fact_id
from schemas.notification import NotificationV1

SUMMARY_CHARS = 60  # of the summary in `text`: a message stays within two SMS


class Notifier:
    """Stages the notifications a jurisdiction's webhooks (notify.csv) want for a fact."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self._j = jurisdiction
        self._zone = jurisdiction.loop.calendar.timezone if jurisdiction.loop else UTC

    @property
    def wanted(self) -> bool:
        """Whether any webhook is configured: callers skip looking up what a notification needs otherwise."""
        return bool(self._j.webhooks.hooks)

    def stage(
        self,
        rows: dict[str, list[dict]],
        fact: uuid.UUID,
        event: NotifyEvent,
        order: Mapping,
        at: datetime,
        callers: Iterable[str] = (),
        *,
        stage: str | None = None,
        sla_kind: str | None = None,
        due_at: datetime | None = None,
    ) -> None:
        """Queue `event` on `order` (a work_orders row's fields) for every webhook in whose scope it is.

        `fact` is the event id of the fact; `callers` the names to mask in the summary and address.
        """
        hooks = self._j.webhooks.for_order(event, order["town_code"], order["centre_code"])
        if not hooks:
            return
        names = tuple(callers)
        summary, address = mask_text(order["summary"], names), mask_text(order["address"] or "", names)
        title = "新工单" if stage is None or sla_kind is None else f"{STAGE_TERMS[stage]}{sla_term(sla_kind)}"
        town = self._j.unit_name(order["town_code"])
        for hook in hooks:
            notification = NotificationV1(
                notification_id=fact_id("notification", fact, hook.key), event=event.value, occurred_at=at,
                unit_code=hook.unit_code, title=title, text=self._text(event, title, town, order, summary, due_at),
                order_id=order["order_id"], town_code=order["town_code"], town_name=town,
                centre_code=order["centre_code"], matter_type=order["matter_type"], priority=order["priority"],
                summary=summary, address=address, stage=stage, sla_kind=sla_kind, due_at=due_at)
            rows.setdefault("notifications", []).append({
                "notification_id": str(notification.notification_id), "webhook": hook.key, "event": event.value,
                "order_id": notification.order_id, "body": notification.model_dump_json(by_alias=True).encode(),
                "created_at": at, "status": "pending", "attempts": 0, "next_attempt_at": at,
            })

    def _text(self, event: NotifyEvent, title: str, town: str, order: Mapping, summary: str,
              due_at: datetime | None) -> str:
        short = summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS] + "…"
        head = f"【枫桥】{town}工单{order['order_id']}（{order['matter_type']}）"
        due = due_at.astimezone(self._zone).strftime("%m月%d日%H:%M") if due_at else ""
        if event is NotifyEvent.NEW_ORDER:
            return f"【枫桥】{town}新工单{order['order_id']}（{order['matter_type']}）：{short}。请及时签收。"
        if event is NotifyEvent.WARNING:
            return f"{head}{title}，将于{due}到期：{short}"
        if event is NotifyEvent.BREACH:
            return f"{head}{title}，时限{due}已过：{short}"
        return f"{head}已超时，{title}：{short}"
