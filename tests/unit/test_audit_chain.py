"""The access log's hash chain: every way of tampering with it shows at the right row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from router.domain.audit_chain import Head, chain_hash, first_break

AT = datetime(2026, 11, 30, 1, tzinfo=UTC)


def _chain(n: int) -> list[dict]:
    rows, prev = [], None
    for i in range(1, n + 1):
        row = {"id": i, "at": AT + timedelta(seconds=i), "user_id": "beigan-op", "role": "town_operator",
               "unit_code": "330109011", "action": "orders.read", "order_id": f"WO{i}", "outcome": "allowed",
               "status": 200, "detail": None, "source_ip": "10.0.0.7", "prev_hash": prev}
        row["row_hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    return rows


def _head(rows: list[dict]) -> Head:
    return Head(rows[-1]["id"], rows[-1]["row_hash"]) if rows else Head(None, None)


def _edited(rows: list[dict]) -> list[dict]:
    return [*rows[:2], {**rows[2], "outcome": "denied"}, *rows[3:]]


def _forged_insert(rows: list[dict]) -> list[dict]:
    forged = {**rows[1], "id": 25, "prev_hash": rows[1]["row_hash"]}
    forged["row_hash"] = chain_hash(forged["prev_hash"], forged)
    return [*rows[:2], forged, *rows[2:]]


@pytest.mark.parametrize(("tamper", "row_id", "kind"), [
    (lambda rows: rows[:2] + rows[3:], 4, "gap"),          # a row deleted in the middle
    (lambda rows: rows[1:], 2, "gap"),                      # the first row deleted
    (lambda rows: rows[:-1], 4, "tail"),                    # the last row deleted: only the head knows
    (_edited, 3, "edited"),                                 # a row changed in place
    (_forged_insert, 3, "gap"),                             # a row slipped in, consistently hashed
], ids=["deleted", "deleted-first", "deleted-last", "edited", "inserted"])
def test_tampering_breaks_the_chain_at_that_row(tamper, row_id: int, kind: str):
    rows = _chain(5)
    broken = first_break(tamper(rows), _head(rows))
    assert (broken.row_id, broken.kind) == (row_id, kind)
    assert f"row {row_id}" in broken.message


def test_an_intact_chain_and_an_empty_one_have_no_break():
    rows = _chain(5)
    assert first_break(rows, _head(rows)) is None
    assert first_break([], Head(None, None)) is None


def test_the_same_instant_hashes_the_same_in_any_zone():
    row = _chain(1)[0]
    shanghai = {**row, "at": row["at"].astimezone(timezone(timedelta(hours=8)))}
    assert chain_hash(None, shanghai) == row["row_hash"]


def test_the_source_ip_is_part_of_the_content():
    row = _chain(1)[0]
    assert chain_hash(None, {**row, "source_ip": "10.0.0.8"}) != row["row_hash"]

