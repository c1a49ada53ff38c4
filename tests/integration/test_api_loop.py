"""Acceptance: the whole closed loop over HTTP against PostgreSQL, as the console and the town
systems drive it — 签收, 延期, 反馈 with attachments, 审核, 重办, 办结, 回访, 退单/改派, 并单, 撤单 —
with idempotent retries, refused commands, the timeline, alerts after the sweep, figures, the
monthly ranking, CSV export and masked callers."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from router.store.tables import order_events, sla_timers, work_orders
from router.sweep import Sweep
from schemas.topics import Topics

pytestmark = pytest.mark.integration

XINTANG, BEIGAN = "330109004", "330109002"
CALLER = {"name": "王小明", "phone": "13912345678"}


def _post(client, order_id: str, path: str, body: dict | None = None, key: str | None = None) -> dict:
    """A command that must be accepted; the order as the API answers after it."""
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post(f"/api/v1/orders/{order_id}/{path}", json=body or {}, headers=headers)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    assert response.json()["status"] == "accepted"
    return response.json()["order"]


def _order(client, order_id: str) -> dict:
    response = client.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_whole_loop_from_acknowledge_to_a_satisfied_callback(api):
    order_id = api.open_order(summary="楼上装修噪音扰民，持续到深夜", caller=CALLER)
    op, supervisor, dispatcher = (api.client(u) for u in ("xintang-op", "district-supervisor",
                                                          "district-dispatcher"))
    opened = _order(op, order_id)
    assert (opened["state"], opened["town_code"], opened["generation"]) == ("dispatched", XINTANG, 0)
    assert "acknowledge" in opened["allowed_actions"]

    assert _post(op, order_id, "acknowledge", {"text": "已收到"})["state"] == "acknowledged"
    due = _when(_order(op, order_id)["deadlines"]["report"])
    assert _post(op, order_id, "extension", {"hours": 48, "text": "需协调物业"})["state"] == "extension_requested"
    extended = _post(supervisor, order_id, "extension-decision", {"approved": True})
    assert extended["state"] == "acknowledged"
    assert _when(extended["deadlines"]["report"]) - due == timedelta(hours=48)

    reported = _post(op, order_id, "report", {"text": "已上门劝导，施工时间调整",
                                              "attachments": ["oss://fengqiao/photos/1.jpg", "oss://fengqiao/2.jpg"]})
    assert reported["state"] == "reported"
    assert _post(dispatcher, order_id, "review", {"approved": False, "text": "未附整改结果"})["state"] == "reopened"
    again = _post(op, order_id, "report", {"text": "已整改，当事人确认"})
    assert (again["state"], again["generation"]) == ("reported", 1)
    assert _post(dispatcher, order_id, "review", {"approved": True})["state"] == "closed"
    final = _post(dispatcher, order_id, "callback", {"satisfied": True, "text": "群众满意"})
    assert final["state"] == "closed"

    steps = [(e["kind"], e["from_state"], e["to_state"], e["actor_user"], e["actor_unit"])
             for e in _order(supervisor, order_id)["timeline"] if e["accepted"]]
    assert steps == [
        ("acknowledge", "dispatched", "acknowledged", "xintang-op", XINTANG),
        ("request_extension", "acknowledged", "extension_requested", "xintang-op", XINTANG),
        ("approve_extension", "extension_requested", "acknowledged", "district-supervisor", "330109"),
        ("report", "acknowledged", "reported", "xintang-op", XINTANG),
        ("reject_report", "reported", "reopened", "district-dispatcher", "330109"),
        ("report", "reopened", "reported", "xintang-op", XINTANG),
        ("approve_report", "reported", "closed", "district-dispatcher", "330109"),
        ("record_callback", "closed", "closed", "district-dispatcher", "330109"),
    ]
    timeline = _order(supervisor, order_id)["timeline"]
    first_report = next(e for e in timeline if e["kind"] == "report")
    assert first_report["details"]["text"] == "已上门劝导，施工时间调整"
    assert first_report["details"]["attachments"] == ["oss://fengqiao/photos/1.jpg", "oss://fengqiao/2.jpg"]
    assert first_report["kind_name"] == "反馈"
    assert next(e for e in timeline if e["kind"] == "reject_report")["details"]["text"] == "未附整改结果"


def test_a_return_approved_moves_the_order_to_the_other_town(api):
    order_id = api.open_order(caller=CALLER)
    xintang, beigan, dispatcher = (api.client(u) for u in ("xintang-op", "beigan-op", "district-dispatcher"))
    assert beigan.get(f"/api/v1/orders/{order_id}").status_code == 404

    assert _post(xintang, order_id, "return", {"reason_code": "R01", "text": "该地址属北干街道"})["state"] == \
        "return_requested"
    moved = _post(dispatcher, order_id, "return-decision", {"approved": True, "target_town": BEIGAN})
    assert (moved["state"], moved["town_code"], moved["returns"], moved["generation"]) == ("dispatched", BEIGAN, 1, 1)

    assert xintang.get(f"/api/v1/orders/{order_id}").status_code == 404
    assert order_id not in [o["order_id"] for o in xintang.get("/api/v1/orders").json()["items"]]
    assert order_id in [o["order_id"] for o in beigan.get("/api/v1/orders").json()["items"]]
    assert _post(beigan, order_id, "acknowledge")["state"] == "acknowledged"
    # The first town cannot act on it any more, and is not told why.
    refused = xintang.post(f"/api/v1/orders/{order_id}/report", json={"text": "已处理"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"

    timeline = _order(dispatcher, order_id)["timeline"]
    returned = next(e for e in timeline if e["kind"] == "request_return")
    assert returned["details"]["reason_code"] == "R01" and returned["actor_user"] == "xintang-op"
    reassigned = next(e for e in timeline if e["kind"] == "approve_return")
    assert (reassigned["details"]["from_town"], reassigned["details"]["to_town"]) == (XINTANG, BEIGAN)
    assert reassigned["kind_name"] == "改派"


def test_merge_keeps_every_caller_and_withdraw_ends_an_order(api):
    survivor = api.open_order(summary="小区路灯坏了一个多星期", caller=CALLER)
    other = api.open_order(summary="小区门口占道经营", address="萧山区新塘街道",
                           caller={"name": "李四", "phone": "13600001111"})
    third = api.open_order(summary="邻居家狗每天夜里叫", address="萧山区北干街道")
    assert len({survivor, other, third}) == 3
    dispatcher = api.client("district-dispatcher")

    merged = _post(dispatcher, other, "merge", {"into": survivor, "text": "同一小区"})
    assert merged["state"] == "merged"
    kept = _order(dispatcher, survivor)
    assert kept["reports"] == 2
    assert {c["name"] for c in kept["callers"]} == {"王小明", "李四"}

    assert _post(dispatcher, third, "withdraw", {"text": "报警人已撤回"})["state"] == "withdrawn"
    op = api.client("xintang-op")
    refused = op.post(f"/api/v1/orders/{other}/acknowledge", json={})
    assert refused.status_code == 409 and "并单" in refused.json()["message"]


def test_a_repeated_idempotency_key_changes_the_order_once(api):
    order_id = api.open_order()
    op = api.client("xintang-op")
    first = op.post(f"/api/v1/orders/{order_id}/acknowledge", json={}, headers={"Idempotency-Key": "console:ack-1"})
    again = op.post(f"/api/v1/orders/{order_id}/acknowledge", json={}, headers={"Idempotency-Key": "console:ack-1"})
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert again.json()["order"]["state"] == "acknowledged"
    with api.engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(order_events)
                           .where(order_events.c.order_id == order_id, order_events.c.kind == "acknowledge"))
    assert rows == 1
    # A retried report with its key, after the first went through, is not a second report.
    body = {"text": "已处理"}
    statuses = []
    for _ in range(2):
        sent = op.post(f"/api/v1/orders/{order_id}/report", json=body, headers={"Idempotency-Key": "console:report-1"})
        assert sent.status_code == 200, sent.text
        statuses.append(sent.json()["status"])
    assert statuses == ["accepted", "duplicate"]
    assert [e["kind"] for e in _order(op, order_id)["timeline"]].count("report") == 1


def test_an_illegal_command_is_a_409_in_chinese_and_changes_nothing(api):
    order_id = api.open_order()
    op = api.client("xintang-op")
    _post(op, order_id, "acknowledge")
    with api.engine.connect() as conn:
        before = dict(conn.execute(select(work_orders).where(work_orders.c.order_id == order_id)).one()._mapping)

    refused = op.post(f"/api/v1/orders/{order_id}/acknowledge", json={})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "illegal_transition"
    assert problem["message"] == "工单当前状态为「已签收/处置中」，不能执行「签收」"

    with api.engine.connect() as conn:
        after = dict(conn.execute(select(work_orders).where(work_orders.c.order_id == order_id)).one()._mapping)
    assert after == before
    rejected = [e for e in _order(op, order_id)["timeline"] if not e["accepted"]]
    assert [(e["kind"], e["actor_user"], e["details"]["code"]) for e in rejected] == \
        [("acknowledge", "xintang-op", "illegal_transition")]


def test_alerts_appear_after_a_deadline_passes_and_the_sweep_runs(api):
    late = api.open_order(summary="楼道堆放杂物堵塞消防通道")
    elsewhere = api.open_order(summary="路边井盖缺失", address="萧山区北干街道")
    supervisor, xintang, beigan = (api.client(u) for u in ("district-supervisor", "xintang-op", "beigan-op"))
    assert supervisor.get("/api/v1/alerts").json() == []

    api.clock.advance(timedelta(hours=1))  # 签收 is due 30 minutes after dispatch
    sweep = Sweep(api.engine, Topics())
    while sweep.tick(api.clock()).fired:
        pass

    alerts = supervisor.get("/api/v1/alerts").json()
    kinds = {(a["order_id"], a["stage"], a["kind"]) for a in alerts}
    for order_id in (late, elsewhere):
        assert {(order_id, "acknowledge", "warning_50"), (order_id, "acknowledge", "breach")} <= kinds
    breach = next(a for a in alerts if a["order_id"] == late and a["kind"] == "breach")
    assert (breach["kind_name"], breach["town_name"]) == ("签收超时", "新塘街道")
    assert {a["order_id"] for a in xintang.get("/api/v1/alerts").json()} == {late}
    assert {a["order_id"] for a in beigan.get("/api/v1/alerts", params={"kind": "breach"}).json()} == {elsewhere}
    assert all(a["kind"] == "breach" for a in beigan.get("/api/v1/alerts", params={"kind": "breach"}).json())
    # The breach is on the order's timeline too, and counted in the town's figures.
    assert "sla.acknowledge.breach" in [e["kind"] for e in _order(xintang, late)["timeline"]]
    figures = {f["town_code"]: f for f in supervisor.get("/api/v1/towns/figures").json()}
    assert figures[XINTANG]["breaches"] >= 1 and figures[XINTANG]["awaiting_ack"] == 1


def test_figures_ranking_and_csv_exports_reflect_the_orders(api):
    first, second = api.open_order(), api.open_order(summary="小区门口占道经营")
    api.open_order(summary="邻居家狗每天夜里叫", address="萧山区北干街道")
    op, supervisor = api.client("xintang-op"), api.client("district-supervisor")
    _post(op, first, "acknowledge")
    _post(op, first, "report", {"text": "已处理"})
    _post(supervisor, first, "review", {"approved": True})

    figures = {f["town_code"]: f for f in supervisor.get("/api/v1/towns/figures").json()}
    assert {k: figures[XINTANG][k] for k in ("orders", "open", "awaiting_ack", "closed")} == \
        {"orders": 2, "open": 1, "awaiting_ack": 1, "closed": 1}
    assert {k: figures[BEIGAN][k] for k in ("orders", "open", "awaiting_ack", "closed")} == \
        {"orders": 1, "open": 1, "awaiting_ack": 1, "closed": 0}

    ranking = supervisor.get("/api/v1/rankings/monthly").json()
    lines = {line["town_code"]: line for line in ranking["lines"]}
    assert {k: lines[XINTANG][k] for k in ("dispatched", "acknowledged", "reported", "closed")} == \
        {"dispatched": 2, "acknowledged": 1, "reported": 1, "closed": 1}
    assert lines[BEIGAN]["dispatched"] == 1 and lines[BEIGAN]["closed"] == 0

    exported = supervisor.get("/api/v1/orders", params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text.removeprefix("\ufeff"))))
    assert table[0][:5] == ["工单编号", "镇街", "事项类型", "优先级", "状态"]
    states = {row[0]: row[4] for row in table[1:]}
    assert states[first] == "办结" and states[second] == "待签收" and len(states) == 3
    second_row = next(row for row in table[1:] if row[0] == second)
    heading = table[0]
    # Chinese labels beside codes, and local time to the second (Asia/Shanghai), as people read them.
    assert second_row[heading.index("优先级")] in ("紧急", "高", "普通", "低")
    assert second_row[heading.index("当前时限")] == "签收"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", second_row[heading.index("派单时间")])
    assert second_row[heading.index("截止时间")] == second_row[heading.index("签收时限")]
    town_csv = list(csv.reader(io.StringIO(op.get("/api/v1/towns/figures", params={"format": "csv"})
                                           .text.removeprefix("\ufeff"))))
    assert town_csv[0][:3] == ["镇街", "工单总数", "在办"] and town_csv[1][:2] == ["新塘街道", "2"]
    assert len(town_csv) == 2
    ranking_csv = supervisor.get("/api/v1/rankings/monthly", params={"format": "csv"})
    assert ranking_csv.headers["content-type"].startswith("text/csv")
    assert ranking_csv.text.removeprefix("\ufeff").startswith("名次,镇街,榜单,得分,派单数")


def test_callers_are_masked_except_for_those_who_call_them_back(api):
    order_id = api.open_order(summary="邻居吵架，报警人电话13812345678，请回电", caller=CALLER)
    seen = {}
    for user in ("xintang-op", "xintang-leader", "district-supervisor", "admin", "district-dispatcher"):
        client = api.client(user)
        detail = _order(client, order_id)
        listed = next(o for o in client.get("/api/v1/orders").json()["items"] if o["order_id"] == order_id)
        assert listed["summary"] == detail["summary"]
        seen[user] = (detail["callers"][0]["name"], detail["callers"][0]["phone"], detail["summary"])
    system = api.token_client("xintang-system")
    seen["xintang-system"] = (lambda d: (d["callers"][0]["name"], d["callers"][0]["phone"], d["summary"]))(
        _order(system, order_id))

    clear = ("王小明", "13912345678", "邻居吵架，报警人电话13812345678，请回电")
    masked = ("王**", "****5678", "邻居吵架，报警人电话138****5678，请回电")
    assert seen == {"xintang-op": clear, "xintang-system": clear, "district-dispatcher": clear,
                    "xintang-leader": masked, "district-supervisor": masked, "admin": masked}
    supervisor_csv = api.client("district-supervisor").get("/api/v1/orders", params={"format": "csv"}).text
    assert "13812345678" not in supervisor_csv and "138****5678" in supervisor_csv


def test_park_stops_the_clocks_and_unpark_restarts_them(api):
    order_id = api.open_order()
    op, supervisor = api.client("xintang-op"), api.client("district-supervisor")
    acknowledged = _post(op, order_id, "acknowledge")
    api.clock.advance(timedelta(hours=1))
    parked = _post(supervisor, order_id, "park", {"text": "长期矛盾"})
    assert parked["state"] == "parked" and parked["deadlines"]["resolve"] is None
    api.clock.advance(timedelta(hours=2))
    unparked = _post(supervisor, order_id, "unpark")
    assert unparked["state"] == "acknowledged"
    before, after = acknowledged["deadlines"], unparked["deadlines"]
    # Both clocks restart at 解除挂账, three hours after 签收 (a Wednesday morning): 反馈 24 h from then,
    # 办结 5 working days from then (the same hour of the next Wednesday, three hours later than before).
    # Compared as instants: the texts may differ in offset or precision for the same moment.
    assert _when(after["report"]) == api.clock() + timedelta(hours=24)
    assert _when(after["resolve"]) == _when(before["resolve"]) + timedelta(hours=3)
    assert _when(after["resolve"]) == api.clock() + timedelta(days=7)
    with api.engine.connect() as conn:
        pending = conn.execute(select(sla_timers.c.stage, sla_timers.c.kind, sla_timers.c.due_at).where(
            sla_timers.c.order_id == order_id, sla_timers.c.status == "pending")).all()
    assert pending and len(pending) == len(set(pending))
