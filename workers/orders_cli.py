"""`fengqiao orders ...`: work orders from a terminal, through the HTTP API as a signed-in user.

The CLI holds no rules of its own: it sends what the console sends, so authorization, audit
and the state machine are the API's. Authenticate with a bearer token (`--token` or
FENGQIAO_API_TOKEN; `fengqiao users issue-token` issues one) or a user name and password.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import typer

from router.domain.plain_text import printable
from workers.text_table import aligned

# Deadlines are the jurisdiction's wall-clock times, whatever zone the server's clock is set to.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")

orders_app = typer.Typer(help="Work orders (工单) through the API.", no_args_is_help=True)

Api = Annotated[str | None, typer.Option("--api", help="API base URL; default http://FENGQIAO_API_HOST:PORT.")]
Token = Annotated[str | None, typer.Option("--token", envvar="FENGQIAO_API_TOKEN", help="Bearer token.",
                                           show_default=False)]
User = Annotated[str | None, typer.Option("--user", "-u", help="Sign in with a password instead of a token.")]
Text = Annotated[str | None, typer.Option("--text", "-t", help="Notes / report text.")]


@contextmanager
def _client(api: str | None, token: str | None, user: str | None,
            transport: httpx.BaseTransport | None = None) -> Iterator[httpx.Client]:
    """A client signed in for one command; a password session is signed out again when it ends."""
    if api is None:
        from workers.settings import Settings

        settings = Settings()
        api = f"http://{settings.api_host}:{settings.api_port}"
    if not user and not token:
        typer.echo("需要 --token（或 FENGQIAO_API_TOKEN）或 --user", err=True)
        raise typer.Exit(2)
    with httpx.Client(base_url=api, timeout=30, transport=transport) as client:
        if not user:
            client.headers["Authorization"] = f"Bearer {token}"
            yield client
            return
        password = os.environ.get("FENGQIAO_PASSWORD") or typer.prompt(f"{user} 的密码", hide_input=True)
        _check(client.post("/api/v1/session", json={"username": user, "password": password}))
        try:
            yield client
        finally:
            _sign_out(client)


def _sign_out(client: httpx.Client) -> None:
    """Close the session rather than leave it open for 12 h; a failure is reported, not raised."""
    try:
        response = client.delete("/api/v1/session")
    except httpx.HTTPError as error:
        typer.echo(f"警告: 退出登录失败（{error}），会话将在到期后失效", err=True)
        return
    if not response.is_success:
        typer.echo(f"警告: 退出登录失败（{response.status_code}），会话将在到期后失效", err=True)


def _check(response: httpx.Response) -> dict | list:
    """The JSON body of a success; otherwise print the API's message and exit 1."""
    if response.is_success:
        return response.json()
    try:
        problem = response.json()
        message = f"{problem.get('message')} ({problem.get('code')}: {problem.get('detail')})"
    except ValueError:
        message = response.text
    typer.echo(f"错误 {response.status_code}: {message}", err=True)
    raise typer.Exit(1)


def _local(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone(LOCAL_ZONE).strftime("%m-%d %H:%M") if value else "—"


@orders_app.command("list")
def list_orders(
    api: Api = None, token: Token = None, user: User = None,
    state: Annotated[list[str] | None, typer.Option("--state", "-s", help="Repeatable: dispatched, ...")] = None,
    town: Annotated[str | None, typer.Option(help="Town code (district roles).")] = None,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only orders past the deadline of the clock running now (签收, then 反馈).")] = False,
    limit: int = 50,
) -> None:
    """List orders in your scope, the running clock's deadline first (签收 until acknowledged, then 反馈)."""
    params: dict = {"sort": "due", "limit": limit, "overdue": overdue, "state": state or []}
    if town:
        params["town"] = town
    with _client(api, token, user) as client:
        page = _check(client.get("/api/v1/orders", params=params))
    rows = [["工单编号", "镇街", "事项", "状态", "当前时限", "截止", "简要情况"]]
    for o in page["items"]:
        clock = o["clock"] or {}
        rows.append([o["order_id"], o["town_name"], o["matter_type"], o["state_name"], clock.get("stage_name", "—"),
                     _local(clock.get("due")), o["summary"][:30]])
    typer.echo("\n".join(aligned(rows)))
    typer.echo(f"共 {page['total']} 条，显示 {len(page['items'])} 条")


@orders_app.command("show")
def show(order_id: str, api: Api = None, token: Token = None, user: User = None) -> None:
    """One order: its deadlines, callers (masked by role) and timeline."""
    with _client(api, token, user) as client:
        o = _check(client.get(f"/api/v1/orders/{order_id}"))
    d = o["deadlines"]
    typer.echo(f"{o['order_id']}  {o['town_name']}  {o['matter_type']}  {o['state_name']}")
    typer.echo(f"  {printable(o['summary'])}\n  地址 {printable(o['address'] or '—')}")
    typer.echo(f"  签收时限 {_local(d['acknowledge'])}  反馈时限 {_local(d['report'])}  "
               f"办结时限 {_local(d['resolve'])}  退单 {o['returns']} 次  报警 {o['reports']} 次")
    for c in o["callers"]:
        typer.echo(f"  报警人 {printable(c['name'] or '—')} {printable(c['phone'] or '—')}  "
                   f"({_local(c['received_at'])})")
    rows = [["时间", "事件", "状态", "操作人", "单位", "说明"]]
    for e in o["timeline"]:
        note = e["details"].get("text") or e["details"].get("reason") or ""
        rows.append([_local(e["at"]), e["kind_name"] + ("" if e["accepted"] else "（被拒绝）"), e["to_state"] or "",
                     e["actor_user"] or "系统", e["actor_unit"] or "", str(note)[:40]])
    typer.echo("\n".join(aligned(rows)))
    typer.echo("可执行: " + (", ".join(o["allowed_actions"]) or "—"))


def _command(order_id: str, path: str, body: dict, api: str | None, token: str | None, user: str | None,
             key: str | None) -> None:
    headers = {"Idempotency-Key": key or f"cli:{uuid.uuid4()}"}
    with _client(api, token, user) as client:
        result = _check(client.post(f"/api/v1/orders/{order_id}/{path}",
                                    content=json.dumps({k: v for k, v in body.items() if v is not None}),
                                    headers={**headers, "Content-Type": "application/json"}))
    order = result["order"]
    typer.echo(f"{'已受理' if result['status'] == 'accepted' else '重复指令，未重复执行'}: "
               f"{order['order_id']} 现为「{order['state_name']}」")


Key = Annotated[str | None, typer.Option("--key", help="Idempotency key; repeat it to retry safely.")]


@orders_app.command("acknowledge")
def acknowledge(order_id: str, text: Text = None, api: Api = None, token: Token = None, user: User = None,
                key: Key = None) -> None:
    """签收."""
    _command(order_id, "acknowledge", {"text": text}, api, token, user, key)


@orders_app.command("report")
def report(order_id: str, text: Annotated[str, typer.Option("--text", "-t", help="处置情况.")],
           attachment: Annotated[list[str] | None, typer.Option(help="Repeatable attachment reference.")] = None,
           api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """反馈: what was done, with attachment references."""
    _command(order_id, "report", {"text": text, "attachments": attachment or []}, api, token, user, key)


@orders_app.command("return")
def return_order(order_id: str, reason: Annotated[str, typer.Option(help="Reason code, e.g. R01.")],
                 text: Text = None, api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """退单 with a reason code."""
    _command(order_id, "return", {"reason_code": reason, "text": text}, api, token, user, key)


@orders_app.command("extension")
def extension(order_id: str, hours: Annotated[float, typer.Option(help="How much more time.")], text: Text = None,
              api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """申请延期."""
    _command(order_id, "extension", {"hours": hours, "text": text}, api, token, user, key)


Approved = Annotated[bool, typer.Option("--approve/--refuse", help="The decision.")]


@orders_app.command("review")
def review(order_id: str, approved: Approved, text: Text = None, api: Api = None, token: Token = None,
           user: User = None, key: Key = None) -> None:
    """审核 a report: --approve closes it (办结), --refuse reopens it (重办)."""
    _command(order_id, "review", {"approved": approved, "text": text}, api, token, user, key)


@orders_app.command("decide-return")
def decide_return(order_id: str, approved: Approved,
                  town: Annotated[str | None, typer.Option(help="改派 target town code.")] = None,
                  text: Text = None, api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """退单审核: --approve --town CODE reassigns (改派); --refuse sends it back."""
    _command(order_id, "return-decision", {"approved": approved, "target_town": town, "text": text}, api, token,
             user, key)


@orders_app.command("decide-extension")
def decide_extension(order_id: str, approved: Approved, text: Text = None, api: Api = None, token: Token = None,
                     user: User = None, key: Key = None) -> None:
    """延期审批."""
    _command(order_id, "extension-decision", {"approved": approved, "text": text}, api, token, user, key)


@orders_app.command("callback")
def callback(order_id: str, satisfied: Annotated[bool, typer.Option("--satisfied/--unsatisfied")],
             text: Text = None, api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """回访: an unsatisfied citizen reopens the order."""
    _command(order_id, "callback", {"satisfied": satisfied, "text": text}, api, token, user, key)


@orders_app.command("transfer")
def transfer(order_id: str, town: Annotated[str, typer.Option(help="Target town code.")], text: Text = None,
             api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """转派 to another town."""
    _command(order_id, "transfer", {"target_town": town, "text": text}, api, token, user, key)


@orders_app.command("merge")
def merge(order_id: str, into: Annotated[str, typer.Option(help="The order that absorbs this one.")],
          text: Text = None, api: Api = None, token: Token = None, user: User = None, key: Key = None) -> None:
    """并单."""
    _command(order_id, "merge", {"into": into, "text": text}, api, token, user, key)


def _simple(path: str, doc: str) -> None:
    def command(order_id: str, text: Text = None, api: Api = None, token: Token = None, user: User = None,
                key: Key = None) -> None:
        _command(order_id, path, {"text": text}, api, token, user, key)

    command.__doc__ = doc
    orders_app.command(path)(command)


_simple("park", "挂账.")
_simple("unpark", "解除挂账.")
_simple("withdraw", "撤单.")
