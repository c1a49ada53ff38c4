"""Evidence photos (现场照片) over HTTP: upload one for an order, then read it or its thumbnail.

The upload is the raw image as the request body (`Content-Type: image/jpeg` or `image/png`),
not a multipart form: one file per request, its bytes checked by content (`router.photos`).
Both routes answer only for an order the caller may see: another town's order is the same 404
as a made-up id. Photos show people and places: never cached (`Cache-Control: private, no-store`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.access import allow
from api.errors import ApiError, not_found
from api.identity import Principal
from api.limits import BodyCap
from api.orders import visible_order
from api.services import Services, services
from router.domain.lifecycle import ALLOWED_ROLES, Action
from router.photos import JPEG, PNG, PhotoRefused, Refusal
from router.store.photos import reference
from schemas.api import PhotoView, Problem

router = APIRouter(prefix="/api/v1", tags=["现场照片 evidence photos"])

# Whoever may attach a photo to a 反馈 or a 回访 may upload one.
UPLOAD_ROLES = ALLOWED_ROLES[Action.REPORT] | ALLOWED_ROLES[Action.RECORD_CALLBACK]
NO_STORE = {"Cache-Control": "private, no-store"}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_ERRORS = {401: {"model": Problem}, 404: {"model": Problem}}
_UPLOAD_ERRORS = {**_ERRORS, 403: {"model": Problem}, 413: {"model": Problem}, 415: {"model": Problem},
                  422: {"model": Problem}}
_REFUSALS = {
    Refusal.TOO_LARGE: (413, "照片过大，请压缩到 {mb} MB 以内后重新上传"),
    Refusal.TOO_MANY_PIXELS: (413, "照片像素过多，请缩小尺寸后重新上传"),
    Refusal.UNSUPPORTED_TYPE: (415, "只能上传 JPEG 或 PNG 格式的照片"),
    Refusal.TYPE_MISMATCH: (415, "文件内容与所选格式不符，只能上传真实的 JPEG 或 PNG 照片"),
    Refusal.UNREADABLE: (422, "照片文件已损坏或不完整，无法读取"),
}


def _refused(refused: PhotoRefused, svc: Services) -> ApiError:
    status, message = _REFUSALS[refused.refusal]
    return ApiError(status, refused.refusal.value, message.format(mb=svc.photos.limits.max_bytes // (1024 * 1024)),
                    str(refused))


def upload_cap(svc: Services) -> BodyCap:
    """The upload's body cap (`FENGQIAO_PHOTO_MAX_BYTES`, not the API's JSON cap), enforced by `api.limits`
    as soon as a body passes it: a huge upload is never held whole."""
    limit = svc.photos.limits.max_bytes
    return BodyCap("POST", re.compile(r"/api/v1/orders/[^/]+/photos"), limit,
                   _refused(PhotoRefused(Refusal.TOO_LARGE, f"more than {limit} bytes"), svc).problem)


def _check_visible(svc: Services, who: Principal, order_id: str) -> None:
    with svc.read() as conn:
        visible_order(conn, who, order_id)


@router.post("/orders/{order_id}/photos", status_code=201, response_model=PhotoView, responses=_UPLOAD_ERRORS,
             summary="上传现场照片 Upload an evidence photo (the raw JPEG or PNG as the body)",
             openapi_extra={"requestBody": {"required": True, "content": {JPEG: _BINARY, PNG: _BINARY}}})
async def upload_photo(order_id: str, request: Request,
                       who: Annotated[Principal, Depends(allow("orders.photo_upload", UPLOAD_ROLES))],
                       svc: Annotated[Services, Depends(services)]) -> PhotoView:
    await run_in_threadpool(_check_visible, svc, who, order_id)
    declared = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if declared not in (JPEG, PNG):
        raise _refused(PhotoRefused(Refusal.UNSUPPORTED_TYPE, f"Content-Type {declared!r}"), svc)
    data = await request.body()  # within upload_cap
    try:
        row = await run_in_threadpool(svc.photos.upload, order_id, data, declared, who.user_id, svc.clock())
    except PhotoRefused as refused:
        raise _refused(refused, svc) from refused
    request.state.audit_detail = f"photo {row['photo_id']}"
    return PhotoView(reference=reference(row["photo_id"]), **row)


@router.get("/orders/{order_id}/photos/{photo_id}", response_class=Response,
            responses={200: {"description": "The photo, or its thumbnail (at most 320 px a side).",
                             "content": {JPEG: _BINARY, PNG: _BINARY}}, **_ERRORS},
            summary="查看现场照片 An evidence photo of the order, or its thumbnail")
def read_photo(order_id: str, photo_id: Annotated[str, Path(max_length=32)],
               who: Annotated[Principal, Depends(allow("orders.photo_read"))],
               svc: Annotated[Services, Depends(services)],
               size: Literal["full", "thumb"] = "full") -> Response:
    _check_visible(svc, who, order_id)
    found = svc.photos.read(order_id, photo_id, thumbnail=size == "thumb")
    if found is None:
        error = not_found("照片")
        error.audit = "no such photo of the order"
        raise error
    data, content_type = found
    return Response(data, media_type=content_type, headers=NO_STORE)
