"""Commands from town systems and operators (`workorders.commands.v1`) and the events they yield."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.base import Contract, Event, UnitCode, WireTime

ActionName = Literal[
    "acknowledge", "report", "approve_report", "reject_report", "record_callback", "request_return",
    "approve_return", "reject_return", "transfer", "request_extension", "approve_extension", "refuse_extension",
    "park", "unpark", "withdraw", "merge",
]
RoleName = Literal["town_operator", "town_leader", "district_dispatcher", "district_supervisor", "district_operator",
                   "admin", "integration"]


class ActorV1(Contract):
    """Who acts, in which role, for which unit (a town code or the district centre's code)."""

    user_id: Annotated[str, Field(min_length=1, max_length=64)]
    role: RoleName
    unit_code: Annotated[str, Field(min_length=1, max_length=32)]


class WorkOrderCommandV1(Contract):
    """One command on one work order. Topic `workorders.commands.v1`, key = `order_id`.

    `idempotency_key` is the sender's: a repeated key is a no-op, whatever it carries. On Kafka it is
    kept in the sending account's namespace, `kafka:<unit_code>:<key>` (answers carry that form), so it
    never meets the API's `api:<unit_code>:<key>` or another unit's keys.

    On Kafka the command runs as the integration account whose token is in the record's
    `fengqiao-token` header, never as `actor`: an `actor` that is not exactly that account is refused
    (`actor_mismatch`); leave it out.
    """

    schema_: Literal["workorder-command.v1"] = Field("workorder-command.v1", alias="schema")
    idempotency_key: Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
    order_id: Annotated[str, Field(min_length=1, max_length=32)]
    action: ActionName
    actor: ActorV1 | None = Field(None, description="Optional and never trusted on Kafka: the sender is the account "
                                  "of the `fengqiao-token` header; an actor naming anyone else is refused.")
    at: WireTime | None = Field(None, description="When the user says they acted (ISO 8601 with zone, never a "
                                "number): kept in the audit as `claimed_at`. Deadlines are judged by when Fengqiao "
                                "received the command.")
    reason_code: Annotated[str | None, Field(max_length=16)] = Field(None, description="退单 reason code.")
    text: Annotated[str | None, Field(max_length=4000)] = Field(None, description="Report text, review notes.")
    attachments: tuple[Annotated[str, Field(max_length=500)], ...] = Field(
        (), description="Attachment references (URLs or storage keys), not the files."
    )
    target_town: UnitCode | None = Field(
        None, description="改派/转派 target town code.")
    extension_hours: Annotated[float | None, Field(gt=0, le=24 * 90)] = Field(None, description="延期 requested.")
    merge_into: Annotated[str | None, Field(max_length=32)] = None
    satisfied: bool | None = Field(None, description="回访 outcome.")

    model_config = {**Contract.model_config, "populate_by_name": True}


class WorkOrderEventV1(Event):
    """A lifecycle fact on `workorders.events.v1` and the centre's topic.

    `event_type` is `workorder.<action>` for an accepted command, `workorder.command_rejected`
    for a rejected one (with `reason`), `workorder.sla` for a warning, breach or escalation
    (with `stage` and `sla_kind`), and `workorder.report_merged` for a repeated report (并单).
    """

    event_type: str
    order_id: str
    town_code: str | None = Field(description="None only when rejecting a command for an order that does not exist.")
    centre_code: str | None
    state: str | None
    generation: int | None
    action: str | None = None
    from_state: str | None = None
    accepted: bool = True
    reason: str | None = None
    actor: ActorV1 | None = None
    idempotency_key: str | None = None
    stage: Literal["acknowledge", "report", "resolve"] | None = None
    sla_kind: str | None = None
    due_at: AwareDatetime | None = None
    report_due: AwareDatetime | None = None
    attachments: tuple[str, ...] = Field((), description="Attachment references carried by a 反馈 report.")
    details: dict[str, str | int | float | bool | None] = {}
