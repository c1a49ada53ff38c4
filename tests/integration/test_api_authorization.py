"""The authorization matrix: role × own town / other town × every endpoint of the OpenAPI document.

Town roles (operator, leader, integration) meet another town's order as a 404 identical to a
made-up id's, on every read and command; their lists, figures, alerts, disputes, ranking and live
stream hold only their own town; asking for another town is refused. Anonymous calls get a 401.
Every denial is a row in the access log, and every command the state machine saw, accepted or
refused (role_not_allowed ...), is a row in the audit trail with the user and unit that sent it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from router.domain.lifecycle import ALLOWED_ROLES, Action, Role
from router.store.tables import access_log, order_events, work_orders
from router.sweep import Sweep
from schemas.topics import Topics
from tests.integration.api_support import ApiUnderTest

pytestmark = pytest.mark.integration

XINTANG, BEIGAN = "330109004", "330109002"
GUESSED = "WO0000DEADBEEF00"
TOWN_USERS = ("xintang-op", "xintang-leader", "xintang-system")
DISTRICT_USERS = ("district-dispatcher", "district-supervisor", "admin")
NOT_FOUND = {"code": "not_found", "message": "工单不存在或无权查看", "detail": None}


@dataclass(frozen=True)
class Command:
    action: Action
    body: dict


# Every command route, the action its body asks for, and a valid body ("{into}" is filled in).
COMMANDS = {
    "acknowledge": Command(Action.ACKNOWLEDGE, {"text": "已收到"}),
    "extension": Command(Action.REQUEST_EXTENSION, {"hours": 4}),
    "extension-decision": Command(Action.APPROVE_EXTENSION, {"approved": True}),
    "report": Command(Action.REPORT, {"text": "已处理", "attachments": ["oss://f/1.jpg"]}),
    "review": Command(Action.REJECT_REPORT, {"approved": False}),
    # park then unpark: a role that may do both really unparks the order it has just parked.
    "park": Command(Action.PARK, {}),
    "unpark": Command(Action.UNPARK, {}),
    "callback": Command(Action.RECORD_CALLBACK, {"satisfied": True}),
    "return": Command(Action.REQUEST_RETURN, {"reason_code": "R01"}),
    "return-decision": Command(Action.APPROVE_RETURN, {"approved": True, "target_town": BEIGAN}),
    "transfer": Command(Action.TRANSFER, {"target_town": BEIGAN}),
    "merge": Command(Action.MERGE, {"into": "{into}"}),
    "withdraw": Command(Action.WITHDRAW, {}),
}
# The dispatcher's desk (区中心处置): what it decides on, and a valid body for each decision.
DESK = {
    "/api/v1/reviews/{review_id}/place": {"town_code": BEIGAN},
    "/api/v1/reviews/{review_id}/merge": {"into": GUESSED},
    "/api/v1/reviews/{review_id}/police": {},
    "/api/v1/dead-letters/{fingerprint}/redrive": {},
}
# Every endpoint of the document, by what decides who may use it.
MATRIX: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/session"): "account",
    ("DELETE", "/api/v1/session"): "account",
    ("GET", "/api/v1/me"): "account",
    ("POST", "/api/v1/me/password"): "account",
    ("GET", "/api/v1/audit"): "account",
    ("GET", "/api/v1/reference"): "account",
    ("GET", "/api/v1/orders"): "list",
    ("GET", "/api/v1/alerts"): "list",
    ("GET", "/api/v1/towns/figures"): "list",
    ("GET", "/api/v1/disputes"): "list",
    ("GET", "/api/v1/rankings/monthly"): "list",
    ("GET", "/api/v1/stream"): "list",
    ("GET", "/api/v1/misroutes"): "district",
    ("GET", "/api/v1/dead-letters"): "district",
    ("GET", "/api/v1/reviews"): "district",
    ("GET", "/api/v1/inbox"): "district",
    **{("POST", path): "desk" for path in DESK},
    ("GET", "/api/v1/orders/{order_id}"): "order",
    ("POST", "/api/v1/orders/{order_id}/photos"): "order",
    ("GET", "/api/v1/orders/{order_id}/photos/{photo_id}"): "order",
    **{("POST", f"/api/v1/orders/{{order_id}}/{path}"): "order" for path in COMMANDS},
    # The cockpit's and the monthly process's reads and district actions: every role's answer is tested beside
    # their figures (COVERED_BY), anonymous calls here.
    ("GET", "/api/v1/cockpit/district"): "cockpit",
    ("GET", "/api/v1/cockpit/towns/{town}"): "cockpit",
    ("GET", "/api/v1/cockpit/towns/{town}/villages/{village}"): "cockpit",
    ("GET", "/api/v1/cockpit/map"): "cockpit",
    ("GET", "/api/v1/hotspots"): "monthly",
    ("PUT", "/api/v1/hotspots/campaign"): "monthly",
    ("GET", "/api/v1/safety-index"): "monthly",
    ("GET", "/api/v1/dispute-lists/{month}"): "monthly",
    ("POST", "/api/v1/dispute-lists/{month}"): "monthly",
    ("PUT", "/api/v1/dispute-lists/{month}/{order_id}"): "monthly",
    ("GET", "/api/v1/reports/monthly/{month}"): "monthly",
    ("POST", "/api/v1/incidents"): "intake",
}
COVERED_BY = {"cockpit": "test_cockpit.py", "monthly": "test_api_monthly.py", "intake": "test_http_intake.py"}
SAMPLE_PARAMS = {"{town}": "330109004", "{village}": "330109004001", "{month}": "2026-11"}
# The access-log action of each order endpoint that is no command.
OTHER_ORDER_ACTIONS = {"/api/v1/orders/{order_id}": "orders.read", "/api/v1/orders/{order_id}/photos": "orders.photo_upload",
               "/api/v1/orders/{order_id}/photos/{photo_id}": "orders.photo_read"}
GUESSED_PHOTO = "PH00000000DEADBEEF"

def _jpeg() -> bytes:
    """A real photo, so an upload in scope reaches the checks behind the order's."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "grey").save(out, "JPEG")
    return out.getvalue()

ORDER_ENDPOINTS = [(method, path) for (method, path), kind in MATRIX.items() if kind == "order"]


@pytest.fixture(scope="module")
def clients(module_api) -> dict[str, httpx.Client]:
    signed_in = {u: module_api.client(u) for u in ("xintang-op", "xintang-leader", "beigan-op", *DISTRICT_USERS)}
    return {**signed_in, "xintang-system": module_api.token_client("xintang-system"),
            "beigan-system": module_api.token_client("beigan-system")}


def _call(client: httpx.Client, method: str, path: str, order_id: str, into: str = GUESSED) -> httpx.Response:
    url = path.replace("{order_id}", order_id).replace("{photo_id}", GUESSED_PHOTO)
    if MATRIX.get((method, path)) in COVERED_BY:
        for name, value in SAMPLE_PARAMS.items():
            url = url.replace(name, value)
        return client.request(method, url, json={} if method in ("POST", "PUT") else None)
    if path.endswith("/photos"):
        return client.post(url, content=_jpeg(), headers={"Content-Type": "image/jpeg"})
    if method == "GET":
        return client.get(url)
    if method == "DELETE":
        return client.delete(url)
    if path == "/api/v1/session":
        return client.post(url, json={"username": "nobody", "password": "wrong"})
    if path == "/api/v1/me/password":
        return client.post(url, json={"old": "wrong", "new": "a-new-password-4821"})
    if path in DESK:
        return client.post(url.replace("{review_id}", "RV-guessed").replace("{fingerprint}", "0" * 64), json=DESK[path])
    command = COMMANDS[path.rsplit("/", 1)[1]]
    body = {k: into if v == "{into}" else v for k, v in command.body.items()}
    return client.post(url, json=body)


def _denials(api: ApiUnderTest, since_id: int) -> list:
    with api.engine.connect() as conn:
        return list(conn.execute(select(access_log).where(access_log.c.id > since_id, access_log.c.outcome
                                                          == "denied").order_by(access_log.c.id)))


def _last_access_id(api: ApiUnderTest) -> int:
    with api.engine.connect() as conn:
        return conn.scalar(select(access_log.c.id).order_by(access_log.c.id.desc()).limit(1)) or 0


def _first_stream_event(client: httpx.Client) -> dict:
    with client.stream("GET", "/api/v1/stream", timeout=10) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                return json.loads(line.removeprefix("data: "))
    raise AssertionError("the stream closed before its first event")


def test_the_matrix_covers_every_endpoint_of_the_document(module_api):
    document = httpx.get(f"{module_api.url}/api/v1/openapi.json").json()
    served = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert served - MATRIX.keys() == set(), "an endpoint no authorization test covers: add it to MATRIX"
    assert MATRIX.keys() - served == set(), "MATRIX names an endpoint the API no longer serves"
    assert {c.action for c in COMMANDS.values()} | {Action.APPROVE_REPORT, Action.REJECT_RETURN,
                                                     Action.REFUSE_EXTENSION} == set(Action)


@pytest.mark.parametrize("kind", sorted(COVERED_BY))
def test_the_endpoints_tested_beside_their_figures_are_each_named_in_that_test_file(kind):
    tests = (Path(__file__).parent / COVERED_BY[kind]).read_text()
    for method, path in (k for k, of in MATRIX.items() if of == kind):
        assert path.split("{", 1)[0].rstrip("/") in tests, (method, path, COVERED_BY[kind])
    assert "403" in tests


def test_district_only_endpoints_refuse_every_town_role(module_api, clients):
    for method, path in (k for k, kind in MATRIX.items() if kind == "district"):
        for user, client in clients.items():
            expected = 200 if user in DISTRICT_USERS else 403
            assert client.request(method, path).status_code == expected, (user, path)


def test_only_the_dispatchers_desk_decides_reviews_and_re_drives_dead_letters(module_api, clients):
    for method, path in (k for k, kind in MATRIX.items() if kind == "desk"):
        for user, client in clients.items():
            status = _call(client, method, path, GUESSED).status_code
            if user in ("district-dispatcher", "admin"):
                assert status == 404, (user, path, status)  # allowed, and nothing by that id
            else:
                assert status == 403, (user, path, status)


def test_anonymous_calls_get_401_everywhere_and_are_logged(module_api):
    order_id = module_api.open_order()
    since = _last_access_id(module_api)
    anonymous = httpx.Client(base_url=module_api.url, timeout=10)
    for method, path in MATRIX:
        response = _call(anonymous, method, path, order_id)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.json()["code"] in ("unauthenticated", "login_failed")
    denied = _denials(module_api, since)
    assert len(denied) == len(MATRIX) - 1  # the failed login is logged as `failed`
    assert all(r.user_id is None and r.status == 401 for r in denied)
    elsewhere = sum("{order_id}" in path for (_, path), kind in MATRIX.items() if kind in COVERED_BY)
    assert sum(r.order_id == order_id for r in denied) == len(ORDER_ENDPOINTS) + elsewhere
    bad_token = httpx.Client(base_url=module_api.url, headers={"Authorization": "Bearer fq_not-a-token"})
    assert bad_token.get("/api/v1/orders").status_code == 401


@pytest.mark.parametrize("user", TOWN_USERS)
def test_another_towns_order_is_a_404_like_a_made_up_id_on_every_endpoint(module_api, clients, user):
    theirs, ours = module_api.open_order(address="萧山区北干街道"), module_api.open_order()
    since = _last_access_id(module_api)
    client = clients[user]
    for method, path in ORDER_ENDPOINTS:
        for order_id in (theirs, GUESSED):
            response = _call(client, method, path, order_id, into=ours)
            assert (response.status_code, response.json()) == (404, NOT_FOUND), f"{method} {path} {order_id}"

    denied = _denials(module_api, since)
    assert {(r.user_id, r.outcome, r.status) for r in denied} == {(user, "denied", 404)}
    assert sorted(r.order_id for r in denied) == sorted([theirs, GUESSED] * len(ORDER_ENDPOINTS))
    assert {r.detail for r in denied if r.order_id == theirs} == {"order of another town"}
    assert {r.action for r in denied} == {*OTHER_ORDER_ACTIONS.values(), *(f"orders.{p.replace('-', '_')}" for p in COMMANDS)}
    with module_api.engine.connect() as conn:
        assert conn.scalar(select(work_orders.c.state).where(work_orders.c.order_id == theirs)) == "dispatched"
        assert list(conn.execute(select(order_events.c.id).where(order_events.c.order_id.in_([theirs, GUESSED]),
                                                                 order_events.c.actor_user == user))) == []


def test_town_roles_see_only_their_own_town_in_every_list(module_api, clients):
    ours, theirs = module_api.open_order(), module_api.open_order(summary="路边井盖缺失", address="萧山区北干街道")
    # A key dispute (three reports of one matter) flagged in 新塘, then reassigned to 北干.
    moved = [module_api.open_order(summary="老板拖欠工资三个月不发") for _ in range(3)]
    assert len(set(moved)) == 1
    moved_id = moved[0]
    assert clients["xintang-op"].post(f"/api/v1/orders/{moved_id}/return", json={"reason_code": "R01"}) \
        .status_code == 200
    assert clients["district-dispatcher"].post(f"/api/v1/orders/{moved_id}/return-decision",
                                               json={"approved": True, "target_town": BEIGAN}).status_code == 200
    module_api.clock.advance(timedelta(hours=1))
    sweep = Sweep(module_api.engine, Topics())
    while sweep.tick(module_api.clock()).fired:
        pass

    with module_api.engine.connect() as conn:
        towns = dict(conn.execute(select(work_orders.c.order_id, work_orders.c.town_code)).all())
    everyone = clients["district-supervisor"]
    assert {a["town_code"] for a in everyone.get("/api/v1/alerts").json()} >= {XINTANG, BEIGAN}
    assert {d["order_id"]: d["town_code"] for d in everyone.get("/api/v1/disputes").json()}[moved_id] == BEIGAN

    for user, town, other in [(u, XINTANG, BEIGAN) for u in TOWN_USERS] + [("beigan-op", BEIGAN, XINTANG),
                                                                           ("beigan-system", BEIGAN, XINTANG)]:
        client = clients[user]
        own_count = sum(t == town for t in towns.values())
        page = client.get("/api/v1/orders", params={"limit": 500}).json()
        assert {o["town_code"] for o in page["items"]} == {town} and page["total"] == own_count, user
        assert (ours in {o["order_id"] for o in page["items"]}) == (town == XINTANG)
        assert (theirs in {o["order_id"] for o in page["items"]}) == (town == BEIGAN)
        exported = client.get("/api/v1/orders", params={"format": "csv"}).text
        assert all(o not in exported for o, t in towns.items() if t != town), user
        alerts = client.get("/api/v1/alerts").json()
        assert alerts and {a["town_code"] for a in alerts} == {town}, user
        figures = client.get("/api/v1/towns/figures").json()
        assert [(f["town_code"], f["orders"]) for f in figures] == [(town, own_count)], user
        disputes = client.get("/api/v1/disputes").json()
        assert {d["town_code"] for d in disputes} <= {town}, user
        assert (moved_id in [d["order_id"] for d in disputes]) == (town == BEIGAN), user
        ranking = client.get("/api/v1/rankings/monthly").json()
        assert [line["town_code"] for line in ranking["lines"]] == [town], user
        assert _first_stream_event(client)["orders"] == own_count, user
        for path in ("/api/v1/orders", "/api/v1/alerts"):
            asked = client.get(path, params={"town": other})
            assert (asked.status_code, asked.json()["code"]) == (404, "not_found"), f"{user} {path}"
            assert client.get(path, params={"town": town}).status_code == 200
        assert client.get("/api/v1/audit").status_code == 403
        assert client.get("/api/v1/me").json()["unit_code"] == town
        assert len(client.get("/api/v1/reference").json()["towns"]) > 2

    total = len(towns)
    for user in DISTRICT_USERS:
        assert clients[user].get("/api/v1/orders", params={"limit": 500}).json()["total"] == total
        assert clients[user].get("/api/v1/orders", params={"town": BEIGAN}).json()["total"] == \
            sum(t == BEIGAN for t in towns.values())
        assert {f["town_code"] for f in clients[user].get("/api/v1/towns/figures").json()} == {XINTANG, BEIGAN}
        assert _first_stream_event(clients[user])["orders"] == total
    assert clients["admin"].get("/api/v1/audit").status_code == 200
    assert clients["district-supervisor"].get("/api/v1/audit", params={"limit": 5}).status_code == 200
    assert clients["district-dispatcher"].get("/api/v1/audit").status_code == 403


@pytest.mark.parametrize("user", TOWN_USERS + DISTRICT_USERS)
def test_a_role_that_may_not_act_gets_403_and_every_command_is_in_the_audit_trail(module_api, clients, user):
    order_id, into = module_api.open_order(), module_api.open_order(summary="小区门口占道经营")
    client = clients[user]
    role = Role(module_api.users[user].role)
    answers = {}
    for path, command in COMMANDS.items():
        response = _call(client, "POST", f"/api/v1/orders/{{order_id}}/{path}", order_id, into=into)
        answers[command.action] = response
        if role in ALLOWED_ROLES[command.action]:
            assert response.status_code in (200, 409, 422), f"{user} {path}: {response.text}"
            assert response.status_code == 200 or response.json()["code"] != "role_not_allowed"
        else:
            assert response.status_code == 403, f"{user} {path}: {response.text}"
            assert response.json()["code"] == "role_not_allowed"
            assert response.json()["message"].startswith("当前角色无权执行「")
    assert any(r.status_code == 200 for r in answers.values()), f"{user} did nothing at all"
    if user == "admin":  # the one role whose earlier commands leave the order parkable: unpark is really run
        assert [answers[a].status_code for a in (Action.PARK, Action.UNPARK)] == [200, 200], \
            answers[Action.UNPARK].text

    with module_api.engine.connect() as conn:
        rows = list(conn.execute(select(order_events).where(order_events.c.order_id == order_id,
                                                            order_events.c.actor_user == user)
                                 .order_by(order_events.c.id)))
    assert {r.actor_unit for r in rows} == {module_api.users[user].unit_code}
    assert {r.actor_role for r in rows} == {role.value}
    for action, response in answers.items():
        mine = [r for r in rows if r.kind == action.value]
        assert len(mine) == 1, f"{user} {action}: {len(mine)} audit rows"
        if response.status_code == 200:
            assert mine[0].accepted
        else:
            assert not mine[0].accepted and mine[0].details["code"] == response.json()["code"]


def test_a_town_role_cannot_learn_which_order_ids_exist_through_a_merge(module_api, clients):
    ours, theirs = module_api.open_order(), module_api.open_order(summary="路边井盖缺失", address="萧山区北干街道")
    client = clients["xintang-op"]
    answers = [client.post(f"/api/v1/orders/{ours}/merge", json={"into": into}) for into in (theirs, GUESSED)]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "role_not_allowed")] * 2
    assert answers[0].json() == answers[1].json()
