"""What the API must not give away: callers to roles that see none, accounts to login probes,
one town's idempotency keys to another, formulas to the spreadsheet a CSV opens in."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from router.store.tables import access_log

pytestmark = pytest.mark.integration

CALLER = {"name": "王小明", "phone": "13912345678"}
MASKED_ROLES = ("xintang-leader", "district-supervisor", "admin")


def test_masked_roles_see_no_caller_in_free_text_notes_or_search(api):
    order_id = api.open_order(summary="王小明反映楼上装修噪音，电话139-1234-5678", caller=CALLER)
    note = "已联系报警人王小明，手机13912345678，约定明早上门"
    acked = api.client("xintang-op").post(f"/api/v1/orders/{order_id}/acknowledge", json={"text": note})
    assert acked.status_code == 200, acked.text
    operator = api.client("xintang-op").get(f"/api/v1/orders/{order_id}").json()
    assert operator["summary"].startswith("王小明") and operator["timeline"][-1]["details"]["text"] == note

    for user in MASKED_ROLES:
        client = api.client(user)
        seen = client.get(f"/api/v1/orders/{order_id}").json()
        text = seen["timeline"][-1]["details"]["text"]
        assert seen["summary"] == "王**反映楼上装修噪音，电话139****5678", user
        assert text == "已联系报警人王**，手机139****5678，约定明早上门", user
        listed = client.get("/api/v1/orders").json()["items"]
        assert [o["summary"] for o in listed if o["order_id"] == order_id] == [seen["summary"]], user
        exported = client.get("/api/v1/orders", params={"format": "csv"}).text
        assert "王小明" not in exported and "1234-5678" not in exported, user
        # A search would tell a guessed name or number from a wrong one: masked roles cannot search the summary.
        for guess in ("王小明", "139-1234-5678", "1234"):
            assert client.get("/api/v1/orders", params={"q": guess}).json()["total"] == 0, (user, guess)
        assert client.get("/api/v1/orders", params={"q": order_id}).json()["total"] == 1, user
    assert api.client("xintang-op").get("/api/v1/orders", params={"q": "王小明"}).json()["total"] == 1


def test_a_login_answer_and_its_log_row_never_tell_which_accounts_exist(api):
    anonymous = api.client()
    tries = {"nobody-here": anonymous.post("/api/v1/session", json={"username": "nobody-here", "password": "x"})}
    for _ in range(5):  # up to the account's back-off (429 for a known and an unknown name alike)
        tries["xintang-op"] = anonymous.post("/api/v1/session", json={"username": "xintang-op", "password": "x"})
    tries["xintang-system"] = anonymous.post("/api/v1/session", json={"username": "xintang-system", "password": "x"})
    bodies = {user: (r.status_code, r.json()) for user, r in tries.items()}
    assert len({repr(b) for b in bodies.values()}) == 1, bodies
    assert bodies["nobody-here"][0] == 401 and bodies["nobody-here"][1]["detail"] is None
    with api.engine.connect() as conn:
        rows = conn.execute(select(access_log.c.user_id, access_log.c.detail)
                            .where(access_log.c.action == "login")).all()
    assert (None, "unknown user") in rows  # a typed name that is no account (maybe a password) is not kept
    assert any(user == "xintang-op" and detail == "wrong password" for user, detail in rows)


def test_idempotency_keys_are_each_units_own(api):
    xintang, beigan = api.open_order(), api.open_order(address="萧山区北干街道")
    key = {"Idempotency-Key": "retry-0000001"}
    first = api.client("xintang-op").post(f"/api/v1/orders/{xintang}/acknowledge", json={}, headers=key)
    assert first.json()["status"] == "accepted"
    # The same key from another town is that town's own: its command runs, it learns nothing.
    other = api.client("beigan-op").post(f"/api/v1/orders/{beigan}/acknowledge", json={}, headers=key)
    assert other.status_code == 200 and other.json()["status"] == "accepted"
    # Reused by the same unit for another command, it is refused rather than taken for a duplicate.
    reused = api.client("xintang-op").post(f"/api/v1/orders/{xintang}/report", json={"text": "已处置"}, headers=key)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    again = api.client("xintang-op").post(f"/api/v1/orders/{xintang}/acknowledge", json={}, headers=key)
    assert again.json()["status"] == "duplicate"


def test_csv_cells_cannot_become_spreadsheet_formulas(api):
    order_id = api.open_order(summary='=HYPERLINK("http://evil.example") 楼上装修噪音扰民', address="@萧山区新塘街道")
    exported = api.client("xintang-op").get("/api/v1/orders", params={"format": "csv"}).text
    row = next(r for r in csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))) if r["工单编号"] == order_id)
    assert row["简要情况"] == "'=HYPERLINK(\"http://evil.example\") 楼上装修噪音扰民" and row["地址"] == "'@萧山区新塘街道"


def test_a_live_stream_ends_when_its_session_does(api):
    client = api.client("xintang-op")
    with client.stream("GET", "/api/v1/stream", timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: changed"
        assert client.delete("/api/v1/session").status_code == 204
        assert next(line for line in lines if line.startswith("event:")) == "event: signed_out"
        assert list(lines) == ["data: {}", ""]  # and the server closed it


def test_a_masked_role_sees_addresses_and_attachment_names_masked(api):
    order_id = api.open_order(address="萧山区新塘街道 联系人139\u200b1234\u200b5678")
    operator = api.client("xintang-op")
    assert operator.post(f"/api/v1/orders/{order_id}/acknowledge", json={}).status_code == 200
    assert operator.post(f"/api/v1/orders/{order_id}/report",
                         json={"text": "已处置", "attachments": ["回执_13912345678.jpg"]}).status_code == 200
    leader = api.client("xintang-leader").get(f"/api/v1/orders/{order_id}").json()
    assert leader["address"] == "萧山区新塘街道 联系人139****5678"
    [report] = [e for e in leader["timeline"] if e["kind"] == "report"]
    assert report["details"]["attachments"] == ["回执_139****5678.jpg"]
    seen = operator.get(f"/api/v1/orders/{order_id}").json()
    assert seen["address"] == "萧山区新塘街道 联系人139\u200b1234\u200b5678"  # who calls back sees it as written
