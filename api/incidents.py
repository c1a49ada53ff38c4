"""HTTP intake (接入) for feeds that cannot speak Kafka: `POST /api/v1/incidents`, one record or a batch.

The records go through the worker's own intake (`router.intake`), synchronously and in one transaction,
so the answer names each record's fate: accepted (and where it went), duplicate (its `source_id` was
routed before) or rejected (dead-lettered with the reason and field errors, as on `incidents.v1`).
Only the district's integration account may post (`incidents.submit`); calls are rate-limited per account
in each API process. docs/integration.md says why this route does not publish to Kafka instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.access import allow
from api.errors import ApiError
from api.identity import Principal
from api.limits import AccountRate, BodyCap, HttpLimits
from api.services import Services, services
from router.dead_letters import FeedRecord
from router.domain.lifecycle import Role
from router.intake import DEAD_LETTER, DUPLICATE, Routed
from schemas.api import IntakeAnswer, Problem, RecordError, RecordFate

router = APIRouter(prefix="/api/v1", tags=["接入 incident intake"])

SUBMIT = "incidents.submit"
_PATH = "/api/v1/incidents"
_ERRORS = {400: {"model": Problem}, 401: {"model": Problem}, 403: {"model": Problem}, 413: {"model": Problem},
           422: {"model": Problem}, 429: {"model": Problem, "description": "too many calls; see Retry-After"}}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "description": "One `incident.v1` record (docs/schemas/incident.v1.schema.json) or a list of them.",
    "oneOf": [{"type": "object"}, {"type": "array", "items": {}, "minItems": 1}]}}}}}


def body_cap(limits: HttpLimits) -> BodyCap:
    """The intake's body cap (`FENGQIAO_API_INCIDENTS_MAX_BYTES`): a batch of records, not one JSON form."""
    kib = limits.incidents_max_bytes // 1024
    return BodyCap("POST", re.compile(re.escape(_PATH)), limits.incidents_max_bytes,
                   Problem(code="request_too_large", message=f"提交内容过大，最多 {kib} KB，请分批提交",
                           detail=f"more than {limits.incidents_max_bytes} bytes"))


def district_feed(request: Request, who: Annotated[Principal, Depends(allow(SUBMIT, {Role.INTEGRATION}))],
                  svc: Annotated[Services, Depends(services)]) -> Principal:
    """`incidents.submit`: the district's integration accounts only; a town's system posts no incidents."""
    district = svc.jurisdiction.district_centre.code
    if who.unit_code != district:
        raise ApiError(403, "forbidden", "只有区级对接账号可以提交警情", f"{who.user_id} of {who.unit_code} "
                       f"is not an integration account of the district {district}")
    return who


def feed_records(body: bytes, per_batch: int, topic: str) -> list[FeedRecord]:
    """The records of a request body (one JSON object, or a list), each as the bytes a Kafka feed would send;
    ApiError for a body that is not JSON, neither a record nor a list, empty, or past `per_batch`."""
    try:
        document = json.loads(body)
    except ValueError as error:  # UnicodeDecodeError included
        raise ApiError(400, "not_json", "提交内容不是有效的 JSON", f"not JSON: {error}") from None
    if not isinstance(document, list | dict):
        raise ApiError(422, "not_records", "提交内容应为一条警情或警情列表",
                       f"(body): a record (object) or a list of records, not {type(document).__name__}")
    items = document if isinstance(document, list) else [document]
    if not items:
        raise ApiError(422, "empty_batch", "警情列表为空", "(body): an empty list")
    if len(items) > per_batch:
        raise ApiError(422, "batch_too_large", f"每次最多提交 {per_batch} 条警情，请分批提交",
                       f"(body): {len(items)} records, at most {per_batch}")
    # The record's own text, as UTF-8; a lone surrogate stays in it, to be dead-lettered as bad_encoding.
    return [FeedRecord(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"),
                       topic=topic) for item in items]


def fate_of(index: int, routed: Routed) -> RecordFate:
    if routed.invalid is not None:
        return RecordFate(index=index, fate="rejected", reason=routed.invalid.reason.value,
                          detail=routed.invalid.detail, dead_lettered=routed.outcome == DEAD_LETTER,
                          errors=[RecordError(field=f, message=m) for f, m in routed.invalid.errors])
    if routed.outcome == DUPLICATE:
        return RecordFate(index=index, fate="duplicate", source_id=routed.incident_id)
    return RecordFate(index=index, fate="accepted", source_id=routed.incident_id, outcome=routed.outcome,
                      order_id=routed.order_id)


def answer_of(routed: Sequence[Routed]) -> IntakeAnswer:
    fates = [fate_of(i, r) for i, r in enumerate(routed)]
    return IntakeAnswer(accepted=sum(f.fate == "accepted" for f in fates),
                        duplicates=sum(f.fate == "duplicate" for f in fates),
                        rejected=sum(f.fate == "rejected" for f in fates), records=fates)


def _submit(svc: Services, body: bytes, per_batch: int) -> IntakeAnswer:
    records = feed_records(body, per_batch, svc.topics.incidents)
    return answer_of(svc.intake.handle(records, svc.clock()).routed)


@router.post("/incidents", status_code=202, response_model=IntakeAnswer, responses=_ERRORS, openapi_extra=_BODY,
             summary="提交警情 Post one incident.v1 record or a batch; each record's fate (feeds without Kafka)")
async def submit_incidents(request: Request, who: Annotated[Principal, Depends(district_feed)],
                           svc: Annotated[Services, Depends(services)]) -> IntakeAnswer:
    rate: AccountRate = request.app.state.incident_rate
    if (wait := rate.take(who.user_id, svc.clock())) is not None:
        raise ApiError(429, "rate_limited", f"提交过于频繁，请 {wait} 秒后再试", f"rate limit; retry in {wait} s",
                       headers={"Retry-After": str(wait)})
    body = await request.body()  # within body_cap
    answer = await run_in_threadpool(_submit, svc, body, request.app.state.incidents_per_batch)
    request.state.audit_detail = (f"{len(answer.records)} records: {answer.accepted} accepted, "
                                  f"{answer.duplicates} duplicate, {answer.rejected} rejected")
    return answer
