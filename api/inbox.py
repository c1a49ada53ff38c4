"""The district's inbox (区中心待办): incidents waiting to be placed in a town (待定位) and feed records that
could not be read (死信), listed for district roles and decided by the dispatcher's desk.

Deciding a review item places it in a town (定位派单), merges it into an open order (并单) or marks it
police (转警务): router.review_desk does it in one transaction, with who decided in the audit. A dead
letter is re-driven (重投) after a fix: its bytes go back to the topic they came from. No `from __future__
import annotations`: FastAPI reads the decision routes' body types from the closure that makes them.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from api import present
from api.access import allow
from api.errors import ApiError
from api.export import CSV_RESPONSE, csv_response
from api.identity import Principal
from api.services import Services, services
from router.dead_letters import redrive
from router.domain.lifecycle import DISTRICT_ROLES, Actor
from router.domain.privacy import mask_text
from router.review_desk import DECIDERS, ReviewDesk, ReviewOutcome
from router.store import views
from schemas.api import (
    DeadLetterView,
    InboxSummary,
    MergeBody,
    Note,
    PlaceBody,
    Problem,
    Redrive,
    ReviewDecision,
    ReviewView,
    Town,
)

router = APIRouter(prefix="/api/v1", tags=["待办 district inbox"])
# One of the desk's decisions: (desk, review id, request body, actor, now) → what became of it.
Decide = Callable[[ReviewDesk, str, BaseModel, Actor, datetime], ReviewOutcome]
_ERRORS = {401: {"model": Problem}, 403: {"model": Problem}, 422: {"model": Problem}}
_DECISION_ERRORS = {**_ERRORS, 404: {"model": Problem}, 409: {"model": Problem}}

REVIEW_TERMS = {"town_ambiguous": "镇街不唯一", "town_unresolved": "无法定位镇街", "outside_jurisdiction": "疑似辖区外"}
REVIEW_STATE_TERMS = {"open": "待定位", "placed": "已派单", "merged": "已并单", "police": "已转警务"}
REVIEW_COLUMNS = [("queued_at", "时间"), ("reason_name", "待定位原因"), ("matter_type", "事项类型"),
                  ("summary", "简要情况"), ("address", "地址"), ("incident_id", "警情编号"),
                  ("state_name", "状态"), ("town_name", "派往镇街"), ("order_id", "工单编号"), ("decided_by", "处置人"),
                  ("decided_at", "处置时间")]
DEAD_LETTER_COLUMNS = [("dead_lettered_at", "时间"), ("reason_name", "原因"), ("detail", "详情"),
                       ("source_topic", "来源主题"), ("partition", "分区"), ("offset", "偏移量"), ("size", "字节数"),
                       ("fingerprint", "指纹"), ("redriven_at", "重投时间"), ("redrives", "重投次数")]
DEAD_LETTER_TERMS = {"oversize": "记录过大", "bad_encoding": "编码错误", "not_json": "非JSON",
                     "schema_violation": "字段不符合契约"}

# A refusal of the desk, as the operator reads it, with its status.
_REFUSALS = {
    "unknown_review": (404, "待定位事项不存在"),
    "already_decided": (409, "该事项已处置，请刷新后查看"),
    "unknown_town": (422, "目标镇街不存在"),
    "invalid_merge_target": (422, "目标工单不存在，或已办结、撤单、被并单，不能并入"),
    "role_not_allowed": (403, "当前角色无权处置待定位事项"),
}


@router.get("/inbox", response_model=InboxSummary, responses=_ERRORS,
            summary="待办 What waits for the district: review items and dead letters, with the oldest of each")
def inbox_summary(who: Annotated[Principal, Depends(allow("inbox.read", DISTRICT_ROLES))],
                  svc: Annotated[Services, Depends(services)]) -> InboxSummary:
    with svc.read() as conn:
        return InboxSummary(**views.inbox_summary(conn))


@router.get("/dead-letters", response_model=list[DeadLetterView], responses={**_ERRORS, **CSV_RESPONSE},
            summary="死信 Feed records that could not be read, newest first (district roles)")
def list_dead_letters(
    who: Annotated[Principal, Depends(allow("dead_letters.list", DISTRICT_ROLES))],
    svc: Annotated[Services, Depends(services)],
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    format: Literal["json", "csv"] = "json",
) -> list[DeadLetterView] | Response:
    with svc.read() as conn:
        found = views.dead_letter_list(conn, limit)
    rows = [DeadLetterView(**{**r, "detail": mask_text(r["detail"])},
                           reason_name=DEAD_LETTER_TERMS.get(r["reason"], r["reason"])) for r in found]
    if format == "csv":
        return csv_response("死信", DEAD_LETTER_COLUMNS, svc.zone, [r.model_dump() for r in rows])
    return rows


@router.post("/dead-letters/{fingerprint}/redrive", response_model=Redrive,
             responses={**_ERRORS, 404: {"model": Problem}, 409: {"model": Problem}},
             summary="重投 Send a dead letter back to the topic it came from, after a fix (dispatcher, admin)")
def redrive_dead_letter(
    request: Request,
    fingerprint: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    who: Annotated[Principal, Depends(allow("dead_letters.redrive", DECIDERS))],
    svc: Annotated[Services, Depends(services)],
) -> Redrive:
    with svc.transaction() as conn:
        status = redrive(conn, fingerprint, who.user_id, svc.clock())
    request.state.audit_detail = f"dead letter {fingerprint[:12]} {status}"
    if status == "unknown":
        raise ApiError(404, "not_found", "死信不存在", f"no dead letter {fingerprint}")
    if status == "waiting":
        raise ApiError(409, "already_redriven", "该死信已重投，正在等待重新读取", f"{fingerprint} is re-driven already")
    return Redrive(fingerprint=fingerprint, status="redriven")


@router.get("/reviews", response_model=list[ReviewView], responses={**_ERRORS, **CSV_RESPONSE},
            summary="待定位 Non-police incidents waiting for the district to place them, oldest first (district roles)")
def list_reviews(
    who: Annotated[Principal, Depends(allow("reviews.list", DISTRICT_ROLES))],
    svc: Annotated[Services, Depends(services)],
    state: Annotated[list[Literal["open", "placed", "merged", "police"]] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    format: Literal["json", "csv"] = "json",
) -> list[ReviewView] | Response:
    with svc.read() as conn:
        found = views.review_list(conn, state or ["open"], limit)
    towns = svc.jurisdiction.town_by_code
    rows = []
    for r in found:
        record, decision = r["record"], r["decision"]
        names = [record["caller"]["name"]] if (record.get("caller") or {}).get("name") else []
        rows.append(ReviewView(
            review_id=r["review_id"], incident_id=r["incident_id"], state=r["state"],
            state_name=REVIEW_STATE_TERMS[r["state"]], reason=r["reason"], reason_name=REVIEW_TERMS[r["reason"]],
            matter_type=r["matter_type"],
            summary=present.text_for(who, record.get("summary", ""), names),
            address=present.text_for(who, record.get("address", ""), names),
            candidates=[Town(code=c, name=towns[c].name, onboarded=towns[c].onboarded)
                        for c in r["candidates"] if c in towns],
            evidence=[f"{e['kind']}:{e['text']}" for e in decision.get("evidence", ())],
            rule_ids=list(decision.get("rule_ids", ())), queued_at=r["queued_at"], decided_at=r["decided_at"],
            decided_by=r["decided_by"], town_code=r["town_code"],
            town_name=svc.unit_name(r["town_code"]) if r["town_code"] else None, order_id=r["order_id"],
            note=r["note"]))
    if format == "csv":
        return csv_response("待定位", REVIEW_COLUMNS, svc.zone, [r.model_dump() for r in rows])
    return rows


def _decision(request: Request, outcome: ReviewOutcome) -> ReviewDecision:
    """The answer to a decision, and its line in the access log: which item, what became of it, where."""
    request.state.audit_detail = " ".join(f"{k}={v}" for k, v in (
        ("review", outcome.review_id), ("outcome", outcome.status), ("code", outcome.code),
        ("town", outcome.town_code), ("order", outcome.order_id)) if v)
    if outcome.status == "rejected":
        status, message = _REFUSALS[outcome.code or ""]
        raise ApiError(status, outcome.code or "rejected", message, outcome.reason)
    return ReviewDecision(review_id=outcome.review_id, state=outcome.status,
                          state_name=REVIEW_STATE_TERMS[outcome.status], order_id=outcome.order_id,
                          town_code=outcome.town_code)


def _decision_route(action: str, body_type: type[BaseModel], decide: Decide, summary: str) -> None:
    """POST /reviews/{review_id}/<action>: one of the desk's decisions, as the dispatcher (or admin) signed in."""
    def endpoint(
        request: Request,
        review_id: str,
        body: body_type,  # type: ignore[valid-type]
        who: Annotated[Principal, Depends(allow(f"reviews.{action}", DECIDERS))],
        svc: Annotated[Services, Depends(services)],
    ) -> ReviewDecision:
        actor = Actor(who.user_id, who.role, who.unit_code)
        return _decision(request, decide(svc.reviews, review_id, body, actor, svc.clock()))

    endpoint.__name__ = f"review_{action}"
    router.add_api_route(f"/reviews/{{review_id}}/{action}", endpoint, methods=["POST"], response_model=ReviewDecision,
                         responses=_DECISION_ERRORS, summary=summary)


_decision_route("place", PlaceBody, lambda desk, rv, b, actor, at: desk.place(rv, b.town_code, actor, at, b.text),
                "定位派单 Place a review item in a town: its order opens there, or merges into one it repeats")
_decision_route("merge", MergeBody, lambda desk, review, b, actor, at: desk.merge(review, b.into, actor, at, b.text),
                "并单 Merge a review item into an open order")
_decision_route("police", Note, lambda desk, review, b, actor, at: desk.mark_police(review, actor, at, b.text),
                "转警务 Mark a review item a police matter: forwarded to police dispatch")
