"""Evidence photos (现场照片) of a 反馈 or 回访: checked by content, stripped of metadata, stored, served.

An upload is a JPEG or a PNG by its bytes (magic number, then a full decode with Pillow), never by
its name or declared type alone; the declared type must agree. It is re-encoded from its pixels,
turned upright by its EXIF orientation, so nothing the camera wrote (GPS position, device serial,
owner name, XMP, comments) survives; with the bundle's `[evidence] keep_location = true` the GPS
block alone is written back. A command then attaches it as `photo:<id>` (`router.store.photos`).
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, RowMapping

from router.store import photos
from router.store.photo_files import PhotoFiles

JPEG, PNG = "image/jpeg", "image/png"
_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
_EXTENSIONS = {JPEG: ".jpg", PNG: ".png"}
THUMBNAIL_SIDE = 320  # px, the longer side: a timeline's thumbnail


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 50_000_000


class Refusal(StrEnum):
    TOO_LARGE = "photo_too_large"
    TOO_MANY_PIXELS = "photo_too_many_pixels"
    UNSUPPORTED_TYPE = "unsupported_photo_type"
    TYPE_MISMATCH = "photo_type_mismatch"
    UNREADABLE = "unreadable_photo"


class PhotoRefused(Exception):
    """An upload that is not a photo Fengqiao keeps: `refusal` says why, the message in English for the log."""

    def __init__(self, refusal: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    """A photo as it is stored: its bytes without metadata, its thumbnail, what it is."""

    data: bytes
    thumbnail: bytes
    content_type: str
    width: int
    height: int


def sniffed_type(data: bytes) -> str | None:
    """JPEG or PNG by the file's first bytes; None for anything else."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def clean(data: bytes, declared: str, limits: PhotoLimits, keep_location: bool = False) -> CleanPhoto:
    """The photo in `data`, re-encoded without its metadata, or PhotoRefused."""
    if len(data) > limits.max_bytes:
        raise PhotoRefused(Refusal.TOO_LARGE, f"{len(data)} bytes, at most {limits.max_bytes}")
    if declared not in _FORMATS:
        raise PhotoRefused(Refusal.UNSUPPORTED_TYPE, f"declared type {declared!r} is neither JPEG nor PNG")
    content_type = sniffed_type(data)
    if content_type is None:
        raise PhotoRefused(Refusal.UNSUPPORTED_TYPE, "the content is neither JPEG nor PNG")
    if content_type != declared:
        raise PhotoRefused(Refusal.TYPE_MISMATCH, f"declared {declared}, the content is {content_type}")
    picture = _decoded(data, content_type, limits)
    location = picture.getexif().get_ifd(ExifTags.IFD.GPSInfo) if keep_location else {}
    upright = ImageOps.exif_transpose(picture)
    # Pillow writes back what `info` holds (EXIF, XMP, comments, text chunks): only pixel meaning is kept.
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    exif = Image.Exif()
    if location:
        exif[ExifTags.IFD.GPSInfo] = location
    icc = picture.info.get("icc_profile")  # colours only, nothing personal
    stored = _encoded(upright, content_type, exif=exif.tobytes() if location else b"", icc_profile=icc)
    small = upright.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return CleanPhoto(stored, _encoded(small, content_type, icc_profile=icc), content_type, *upright.size)


def _decoded(data: bytes, content_type: str, limits: PhotoLimits) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(data), formats=[_FORMATS[content_type]])
        # The header's size, before decoding: a small file can hold a huge, memory-eating image.
        if picture.width * picture.height > limits.max_pixels:
            raise PhotoRefused(Refusal.TOO_MANY_PIXELS, f"{picture.width}×{picture.height} pixels, at most "
                                                         f"{limits.max_pixels}")
        picture.load()
    except Image.DecompressionBombError as error:
        raise PhotoRefused(Refusal.TOO_MANY_PIXELS, str(error)) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise PhotoRefused(Refusal.UNREADABLE, f"{content_type} that does not decode: {error}") from error
    return picture


def _encoded(picture: Image.Image, content_type: str, **options: object) -> bytes:
    out = io.BytesIO()
    if content_type == JPEG:
        picture.save(out, "JPEG", quality=90, **options)
    else:
        picture.save(out, "PNG", **options)
    return out.getvalue()


def _keys(order_id: str, photo_id: str, content_type: str) -> tuple[str, str]:
    extension = _EXTENSIONS[content_type]
    return f"{order_id}/{photo_id}{extension}", f"{order_id}/{photo_id}.thumb{extension}"


class Photos:
    """Evidence photos of work orders: the checks, the files (`PhotoFiles`) and the metadata rows.

    Callers have already decided that the user may see the order (`api.photos`)."""

    def __init__(self, files: PhotoFiles, transaction: Callable[[], AbstractContextManager[Connection]],
                 limits: PhotoLimits, keep_location: bool = False) -> None:
        self.files = files
        self.limits = limits
        self._transaction = transaction
        self._keep_location = keep_location

    def upload(self, order_id: str, data: bytes, declared: str, uploaded_by: str, at: datetime) -> RowMapping:
        """The stored photo's row; the same image uploaded again to the order (a retry) is the same photo."""
        photo = clean(data, declared, self.limits, self._keep_location)
        digest = hashlib.sha256(photo.data).hexdigest()
        with self._transaction() as conn:
            earlier = photos.same_image(conn, order_id, digest)
        if earlier is not None:
            return earlier
        photo_id = "PH" + secrets.token_hex(8).upper()
        full, thumbnail = _keys(order_id, photo_id, photo.content_type)
        # Files first, then the row: a row never names a file that is not there.
        self.files.put(full, photo.data, photo.content_type)
        self.files.put(thumbnail, photo.thumbnail, photo.content_type)
        with self._transaction() as conn:
            photos.add(conn, photo_id=photo_id, order_id=order_id, content_type=photo.content_type,
                       size=len(photo.data), width=photo.width, height=photo.height, sha256=digest,
                       uploaded_by=uploaded_by, uploaded_at=at)
            return photos.photo(conn, order_id, photo_id)

    def read(self, order_id: str, photo_id: str, thumbnail: bool = False) -> tuple[bytes, str] | None:
        """The photo's bytes (or its thumbnail's) and content type; None when it is no photo of the order."""
        with self._transaction() as conn:
            row = photos.photo(conn, order_id, photo_id)
        if row is None:
            return None
        full, small = _keys(order_id, photo_id, row["content_type"])
        return self.files.get(small if thumbnail else full), row["content_type"]
