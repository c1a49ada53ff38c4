"""Work orders over HTTP: list, read, and every lifecycle command (签收, 反馈, 退单, 延期 ...).

Commands go through the same `CommandHandler` as `workorders.commands.v1`, so an HTTP 签收 and a
town system's 签收 are one code path, one audit trail and one event stream. No `from __future__
import annotations` here: the command routes are built in a loop and FastAPI must see real types.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel
from sqlalchemy import Connection, RowMapping
from starlette.responses import Response

from api import present
from api.access import allow, scope_town
from api.cockpit import period as cockpit_period
from api.errors import ApiError, not_found
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.parameters import FromMonth, ToMonth, TownQuery, VillageQuery
from api.services import Services, services
from router.commands import CommandOutcome
from router.store import cockpit, views
from schemas.api import (
    CallbackBody,
    CommandResult,
    ExtensionBody,
    ExtensionDecision,
    MergeBody,
    Note,
    OrderDetail,
    OrderPage,
    Problem,
    ReportBody,
    ReturnBody,
    ReturnDecision,
    ReviewBody,
    TransferBody,
)
from schemas.command import ActorV1, WorkOrderCommandV1

router = APIRouter(prefix="/api/v1", tags=["工单 work orders"])

_ERRORS = {401: {"model": Problem}, 404: {"model": Problem}}
_COMMAND_ERRORS = {**_ERRORS, 403: {"model": Problem}, 409: {"model": Problem}, 422: {"model": Problem}}
ORDER_COLUMNS = [("order_id", "工单编号"), ("town_name", "镇街"), ("matter_type", "事项类型"),
                 ("priority_name", "优先级"), ("state_name", "状态"), ("summary", "简要情况"), ("address", "地址"),
                 ("opened_at", "派单时间"), ("clock.stage_name", "当前时限"), ("clock.due", "截止时间"),
                 ("deadlines.acknowledge", "签收时限"), ("deadlines.report", "反馈时限"), ("returns", "退单次数"),
                 ("reports", "报警次数")]


@router.get("/orders", response_model=OrderPage, responses={**_ERRORS, **CSV_RESPONSE},
            summary="工单列表 List work orders in scope")
def list_orders(
    who: Annotated[Principal, Depends(allow("orders.list"))],
    svc: Annotated[Services, Depends(services)],
    state: Annotated[list[str], Query(description="One or more lifecycle states.")] = [],  # noqa: B006
    town: TownQuery = None,
    matter_type: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool = False,
    district_run: Annotated[bool | None, Query(description="true: only the orders the district centre runs for "
                                               "towns not onboarded (区中心代管); false: only the towns' own.")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in the address or an order id; also in the "
                                   "summary for roles that see callers.")] = None,
    sort: Literal["opened", "due"] = "opened",
    village: VillageQuery = None,
    figure: Annotated[Literal[cockpit.FIGURES] | None, Query(description="Only the orders a cockpit figure counted "
                                                             "over the months `from`..`to` (docs/cockpit.md).")] = None,
    start: FromMonth = None,
    end: ToMonth = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    format: Literal["json", "csv"] = "json",
) -> OrderPage | Response:
    scope = scope_town(who, town)
    behind = None
    if figure is not None:
        first, last, _ = cockpit_period(svc, start, end)
        centre = svc.jurisdiction.district_centre.code
        towns = (scope,) if scope else (*(t.code for t in svc.jurisdiction.towns), centre)
        behind = cockpit.orders_behind(cockpit.Scope(first, last, svc.zone, towns, village), figure)
        if scope == centre:  # the district centre's line: its dispatches, of orders in the towns it runs
            scope = None
    wanted = views.OrderFilter(states=tuple(state), town=scope, matter_type=matter_type,
                               overdue=overdue, text=q, text_in_summary=who.sees_callers, sort=sort,
                               district_run=district_run, village=village, behind=behind)
    with svc.read() as conn:
        rows, total = views.order_page(conn, wanted, svc.clock(), None if format == "csv" else limit, offset)
        due = views.deadlines(conn, rows)
        names = {} if who.sees_callers else views.caller_names(conn, (r["order_id"] for r in rows))
    items = [present.summary(r, due.get(r["order_id"], {}), who, svc, names.get(r["order_id"], ())) for r in rows]
    if format == "csv":
        return csv_response("工单列表", ORDER_COLUMNS, svc.zone, [i.model_dump() for i in items])
    return OrderPage(total=total, limit=limit, offset=offset, items=items)


def visible_order(conn: Connection, who: Principal, order_id: str) -> RowMapping:
    """The order's row if `who` may see it; 404 when it does not exist or belongs to another town."""
    row = views.order(conn, who.town, order_id)
    if row is None:
        # Which of the two it was goes to the access log only: the answer must not tell.
        exists = views.order(conn, None, order_id) is not None
        error = not_found()
        error.audit = "order of another town" if exists else "no such order"
        raise error
    return row


def order_detail(svc: Services, who: Principal, order_id: str) -> OrderDetail:
    """The order as `who` may see it; 404 when it does not exist or belongs to another town."""
    with svc.read() as conn:
        row = visible_order(conn, who, order_id)
        return present.detail(row, views.deadlines(conn, [row]).get(order_id, {}), views.timeline(conn, order_id),
                              views.reports(conn, order_id), who, svc)


@router.get("/orders/{order_id}", response_model=OrderDetail, responses=_ERRORS,
            summary="工单详情 One order with its timeline, deadlines and callers")
def read_order(order_id: str, who: Annotated[Principal, Depends(allow("orders.read"))],
               svc: Annotated[Services, Depends(services)]) -> OrderDetail:
    return order_detail(svc, who, order_id)


# A rejection the state machine names gets the status that says why; the rest are conflicts.
_REJECTION_STATUS = {"role_not_allowed": 403, "other_town": 403, "unknown_target": 422, "idempotency_key_reused": 422,
                     "invalid_merge_target": 422,
                     "invalid_extension": 422, "missing_target": 422, "missing_merge_target": 422,
                     "missing_satisfaction": 422, "unknown_reason_code": 422, "merge_into_itself": 422,
                     "same_town": 422, "unknown_photo": 422}
_REJECTION_TERMS = {
    "role_not_allowed": "当前角色无权执行「{action}」",
    # Town roles never get here (another town's order is a 404); the district operator can see it.
    "other_town": "该工单由镇街指挥中心自行办理，区中心只代办未接入镇街的工单",
    "illegal_transition": "工单当前状态为「{state}」，不能执行「{action}」",
    "return_cap_reached": "退单次数已达上限，不能再退单",
    "unknown_reason_code": "退单原因代码无效",
    "invalid_extension": "延期时长无效",
    "no_report_deadline": "该工单没有反馈时限，无需延期",
    "extension_after_deadline": "已超过反馈时限，不能再申请延期",
    "missing_target": "请选择改派或转派的镇街",
    "same_town": "不能改派或转派到原镇街",
    "missing_merge_target": "请填写并入的工单编号",
    "merge_into_itself": "不能并入工单自身",
    "unknown_target": "目标镇街或目标工单不存在",
    "invalid_merge_target": "目标工单已办结、撤单或被并单，不能并入",
    "missing_satisfaction": "请填写回访是否满意",
    "idempotency_key_reused": "该请求编号（Idempotency-Key）已用于另一操作，请勿重复使用",
    "unknown_photo": "附件照片不存在或不属于本工单，请重新上传",
}


def run_command(svc: Services, who: Principal, order_id: str, key: str | None, fields: dict) -> CommandResult:
    """Apply one command as `who`, answering 404 for orders out of scope and 4xx for rejections."""
    before = order_detail(svc, who, order_id)
    # Keys are the caller's unit's own: another town can neither see nor pre-empt them.
    wire = WorkOrderCommandV1(
        idempotency_key=f"api:{who.unit_code}:{key or uuid.uuid4()}", order_id=order_id,
        actor=ActorV1(user_id=who.user_id, role=who.role.value, unit_code=who.unit_code), **fields)
    outcome: CommandOutcome = svc.commands.handle(wire, svc.clock())
    if outcome.status == "rejected":
        code = outcome.code or "rejected"
        message = _REJECTION_TERMS.get(code, "操作未被接受").format(
            state=present.state_term(outcome.state or before.state), action=present.kind_term(wire.action))
        raise ApiError(_REJECTION_STATUS.get(code, 409), code, message, outcome.reason)
    return CommandResult(status=outcome.status, order=order_detail(svc, who, order_id))


def _command_route(path: str, action: str, body_type: type[BaseModel], fields: Callable[[BaseModel], dict],
                   summary: str) -> None:
    def endpoint(
        order_id: str,
        body: body_type,  # type: ignore[valid-type]
        who: Annotated[Principal, Depends(allow(f"orders.{action}"))],
        svc: Annotated[Services, Depends(services)],
        idempotency_key: Annotated[str | None, Header(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$",
                                                      description="Repeat it to retry safely; a key reused for "
                                                                  "another command is refused (422).")] = None,
    ) -> CommandResult:
        return run_command(svc, who, order_id, idempotency_key, fields(body))

    endpoint.__name__ = f"order_{action.replace('-', '_')}"
    router.add_api_route(f"/orders/{{order_id}}/{path}", endpoint, methods=["POST"], response_model=CommandResult,
                         responses=_COMMAND_ERRORS, summary=summary)


def _either(yes: str, no: str) -> Callable[[BaseModel], dict]:
    return lambda b: {"action": yes if b.approved else no, "text": b.text}


_command_route("acknowledge", "acknowledge", Note, lambda b: {"action": "acknowledge", "text": b.text},
               "签收 Acknowledge")
_command_route("report", "report", ReportBody,
               lambda b: {"action": "report", "text": b.text, "attachments": tuple(b.attachments)}, "反馈 Report")
_command_route("review", "review", ReviewBody, _either("approve_report", "reject_report"),
               "审核 Review a report: approved closes the order (办结), not approved reopens it (重办)")
_command_route("callback", "callback", CallbackBody,
               lambda b: {"action": "record_callback", "satisfied": b.satisfied, "text": b.text,
                          "attachments": tuple(b.attachments)}, "回访 Callback")
_command_route("return", "return", ReturnBody,
               lambda b: {"action": "request_return", "reason_code": b.reason_code, "text": b.text}, "退单 Return")
_command_route("return-decision", "return_decision", ReturnDecision,
               lambda b: {"action": "approve_return" if b.approved else "reject_return",
                          "target_town": b.target_town, "text": b.text},
               "退单审核 Decide a return: approved reassigns (改派) to target_town, refused sends it back")
_command_route("transfer", "transfer", TransferBody,
               lambda b: {"action": "transfer", "target_town": b.target_town, "text": b.text}, "转派 Transfer")
_command_route("extension", "extension", ExtensionBody,
               lambda b: {"action": "request_extension", "extension_hours": b.hours, "text": b.text},
               "申请延期 Request an extension")
_command_route("extension-decision", "extension_decision", ExtensionDecision,
               _either("approve_extension", "refuse_extension"), "延期审批 Approve or refuse an extension")
_command_route("park", "park", Note, lambda b: {"action": "park", "text": b.text}, "挂账 Park")
_command_route("unpark", "unpark", Note, lambda b: {"action": "unpark", "text": b.text}, "解除挂账 Unpark")
_command_route("withdraw", "withdraw", Note, lambda b: {"action": "withdraw", "text": b.text}, "撤单 Withdraw")
_command_route("merge", "merge", MergeBody, lambda b: {"action": "merge", "merge_into": b.into, "text": b.text},
               "并单 Merge into another order")
