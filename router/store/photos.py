"""Reads and writes of evidence photos' metadata, and the `photo:<id>` reference a command carries."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, RowMapping, insert, select

from router.store.tables import photos

REFERENCE_PREFIX = "photo:"


def reference(photo_id: str) -> str:
    """What a 反馈 or 回访 lists in `attachments` to attach a stored photo."""
    return REFERENCE_PREFIX + photo_id


def referenced(attachments: Iterable[str]) -> set[str]:
    """The photo ids named by `photo:` references; other references (URLs, storage keys) are not photos."""
    return {a.removeprefix(REFERENCE_PREFIX) for a in attachments if a.startswith(REFERENCE_PREFIX)}


def add(conn: Connection, **row: object) -> None:
    conn.execute(insert(photos).values(**row))


def photo(conn: Connection, order_id: str, photo_id: str) -> RowMapping | None:
    """The photo if it belongs to `order_id`; another order's photo is as absent as a made-up id."""
    found = conn.execute(select(photos).where(photos.c.photo_id == photo_id, photos.c.order_id == order_id)).first()
    return found._mapping if found else None


def same_image(conn: Connection, order_id: str, sha256: str) -> RowMapping | None:
    """The order's photo with exactly these stored bytes, if one was uploaded already (a retry)."""
    found = conn.execute(select(photos).where(photos.c.order_id == order_id, photos.c.sha256 == sha256)
                         .order_by(photos.c.uploaded_at).limit(1)).first()
    return found._mapping if found else None


def of_order(conn: Connection, order_id: str, photo_ids: Iterable[str]) -> set[str]:
    """Which of `photo_ids` are photos of `order_id`."""
    wanted = list(photo_ids)
    if not wanted:
        return set()
    return set(conn.scalars(select(photos.c.photo_id).where(photos.c.order_id == order_id,
                                                            photos.c.photo_id.in_(wanted))))
