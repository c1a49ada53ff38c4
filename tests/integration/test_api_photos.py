"""Evidence photos over HTTP on PostgreSQL: upload, attach to a 反馈 and a 回访, read back without the
GPS position, the limits and the type check as Problems, and another town's photo as a 404."""

from __future__ import annotations

import io
from datetime import datetime
from itertools import count

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from router.store.tables import access_log, work_orders

pytestmark = pytest.mark.integration

NOT_FOUND = {"code": "not_found", "message": "工单不存在或无权查看", "detail": None}
NO_PHOTO = {"code": "not_found", "message": "照片不存在或无权查看", "detail": None}
GUESSED_ORDER, GUESSED_PHOTO = "WO0000DEADBEEF00", "PH00000000DEADBEEF"
HOUSES = count(1)


def gps_jpeg(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A phone's photo: its GPS position in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 10.0, 35.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (120.0, 18.0, 4.0)}
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(client, order_id: str, data: bytes, content_type: str = "image/jpeg"):
    return client.post(f"/api/v1/orders/{order_id}/photos", content=data, headers={"Content-Type": content_type})


def acknowledged(api, client) -> str:
    """A new acknowledged order of 新塘 (its own address: not merged into an earlier test's order)."""
    order_id = api.open_order(address=f"萧山区新塘街道人民路{next(HOUSES)}号")
    assert client.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    return order_id


@pytest.fixture(scope="module")
def op(module_api):
    return module_api.client("xintang-op")


def test_a_photo_uploaded_and_attached_to_a_report_and_a_callback_is_served_without_its_location(module_api, op):
    order_id = acknowledged(module_api, op)
    answer = upload(op, order_id, gps_jpeg())
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    assert photo["reference"] == f"photo:{photo['photo_id']}"
    assert (photo["order_id"], photo["content_type"], photo["width"], photo["height"], photo["uploaded_by"]) == (
        order_id, "image/jpeg", 800, 600, "xintang-op")
    assert datetime.fromisoformat(photo["uploaded_at"]) == module_api.clock()

    full = op.get(f"/api/v1/orders/{order_id}/photos/{photo['photo_id']}")
    assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.headers["cache-control"] == "private, no-store"
    assert len(full.content) == photo["size"]
    served = Image.open(io.BytesIO(full.content))
    assert served.size == (800, 600) and dict(served.getexif()) == {}
    thumb = op.get(f"/api/v1/orders/{order_id}/photos/{photo['photo_id']}", params={"size": "thumb"})
    assert thumb.status_code == 200 and thumb.headers["cache-control"] == "private, no-store"
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)

    reported = op.post(f"/api/v1/orders/{order_id}/report", json={"text": "已到场处置", "attachments": [photo["reference"]]})
    assert reported.status_code == 200, reported.text
    [entry] = [e for e in reported.json()["order"]["timeline"] if e["kind"] == "report"]
    assert entry["details"]["attachments"] == [photo["reference"]]

    dispatcher = module_api.client("district-dispatcher")
    assert dispatcher.post(f"/api/v1/orders/{order_id}/review", json={"approved": True}).status_code == 200
    callback_photo = upload(dispatcher, order_id, gps_jpeg((30, 30, 200))).json()
    called = dispatcher.post(f"/api/v1/orders/{order_id}/callback",
                             json={"satisfied": True, "attachments": [callback_photo["reference"]]})
    assert called.status_code == 200, called.text
    [entry] = [e for e in called.json()["order"]["timeline"] if e["kind"] == "record_callback"]
    assert entry["details"]["attachments"] == [callback_photo["reference"]]
    with module_api.engine.connect() as conn:
        uploads = list(conn.execute(select(access_log).where(access_log.c.action == "orders.photo_upload",
                                                             access_log.c.order_id == order_id)))
    assert [(r.user_id, r.outcome, r.status, r.detail) for r in uploads] == [
        ("xintang-op", "allowed", 201, f"photo {photo['photo_id']}"),
        ("district-dispatcher", "allowed", 201, f"photo {callback_photo['photo_id']}")]


def test_the_same_photo_sent_twice_is_one_photo(module_api, op):
    order_id = acknowledged(module_api, op)
    first, again = (upload(op, order_id, gps_jpeg()).json() for _ in range(2))
    assert first["photo_id"] == again["photo_id"]


def test_a_photo_over_the_size_limit_is_a_413_problem(module_api, op):
    order_id = acknowledged(module_api, op)
    limit = module_api.services.photos.limits.max_bytes
    too_big = gps_jpeg() + b"\x00" * limit
    answer = upload(op, order_id, too_big)
    assert answer.status_code == 413
    assert answer.json()["code"] == "photo_too_large" and answer.json()["message"].startswith("照片过大")
    # Sent without a length (chunked): refused once the limit is passed, not after the whole body.
    chunked = op.post(f"/api/v1/orders/{order_id}/photos", content=iter([too_big[:limit], too_big[limit:]]),
                      headers={"Content-Type": "image/jpeg"})
    assert (chunked.status_code, chunked.json()["code"]) == (413, "photo_too_large")


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    pytest.param(b"%PDF-1.7\n1 0 obj\n", "image/jpeg", 415, "unsupported_photo_type", id="pdf-sent-as-jpeg"),
    pytest.param(gps_jpeg(), "application/pdf", 415, "unsupported_photo_type", id="declared-pdf"),
    pytest.param(gps_jpeg(), "image/png", 415, "photo_type_mismatch", id="jpeg-sent-as-png"),
    pytest.param(gps_jpeg()[:400], "image/jpeg", 422, "unreadable_photo", id="truncated-jpeg"),
])
def test_only_a_real_jpeg_or_png_is_taken(module_api, op, data, content_type, status, code):
    order_id = acknowledged(module_api, op)
    answer = upload(op, order_id, data, content_type)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert answer.json()["message"]  # Chinese, for the operator


def test_another_towns_photo_is_a_404_like_a_made_up_one(module_api, op):
    order_id = acknowledged(module_api, op)
    photo_id = upload(op, order_id, gps_jpeg()).json()["photo_id"]
    beigan = module_api.client("beigan-op")
    theirs_answer = beigan.get(f"/api/v1/orders/{order_id}/photos/{photo_id}")
    made_up_answer = beigan.get(f"/api/v1/orders/{GUESSED_ORDER}/photos/{photo_id}")
    assert (theirs_answer.status_code, theirs_answer.json()) == (made_up_answer.status_code, made_up_answer.json()) \
        == (404, NOT_FOUND)
    assert (upload(beigan, order_id, gps_jpeg()).status_code, upload(beigan, GUESSED_ORDER, gps_jpeg()).json()) == (
        404, NOT_FOUND)
    # Through an order of its own, another order's photo is as absent as an id nobody issued.
    own = module_api.open_order(address=f"萧山区北干街道人民路{next(HOUSES)}号")
    for asked in (photo_id, GUESSED_PHOTO):
        answer = beigan.get(f"/api/v1/orders/{own}/photos/{asked}", params={"size": "thumb"})
        assert (answer.status_code, answer.json()) == (404, NO_PHOTO)
    with module_api.engine.connect() as conn:
        denied = list(conn.execute(select(access_log).where(access_log.c.user_id == "beigan-op",
                                                            access_log.c.action.like("orders.photo_%"))
                                   .order_by(access_log.c.id)))
    assert [(r.order_id, r.outcome, r.detail) for r in denied] == [
        (order_id, "denied", "order of another town"), (GUESSED_ORDER, "denied", "no such order"),
        (order_id, "denied", "order of another town"), (GUESSED_ORDER, "denied", "no such order"),
        (own, "denied", "no such photo of the order"), (own, "denied", "no such photo of the order")]


def test_a_report_cannot_attach_a_photo_of_another_order(module_api, op):
    order_id, other = acknowledged(module_api, op), acknowledged(module_api, op)
    assert other != order_id
    foreign = upload(op, other, gps_jpeg()).json()["reference"]
    for attachments in ([foreign], [f"photo:{GUESSED_PHOTO}"]):
        answer = op.post(f"/api/v1/orders/{order_id}/report", json={"text": "已处置", "attachments": attachments})
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "unknown_photo"
        assert answer.json()["message"] == "附件照片不存在或不属于本工单，请重新上传"
    with module_api.engine.connect() as conn:
        assert conn.scalar(select(work_orders.c.state).where(work_orders.c.order_id == order_id)) == "acknowledged"
