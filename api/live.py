"""Live updates for the console (实时推送): Server-Sent Events when orders in scope change.

The API and the workers share only the database, so the stream polls a cheap version of the
caller's scope (orders in it, newest audit row in it) and says `changed` when it moves; the
console then reloads what it shows. A comment line every 15 s keeps proxies from closing it.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.access import allow, authenticate
from api.errors import ApiError
from api.identity import Principal
from api.services import Services, services
from router.store import views
from schemas.api import Problem

router = APIRouter(prefix="/api/v1", tags=["实时 live"])
HEARTBEAT_S = 15.0
RECHECK_S = 5.0


class StreamSlots:
    """At most `per_user` open streams per user in this process (one token held 150); a slot is given back
    when its stream ends, however it ends. Taken and given back on the event loop only: no lock."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: Counter[str] = Counter()

    def take(self, user_id: str) -> Callable[[], None]:
        """The slot's release, or 429 `too_many_streams` when the user holds them all."""
        if self._open[user_id] >= self.per_user:
            raise ApiError(429, "too_many_streams", "实时推送连接过多，请关闭其他页面后重试",
                           f"{self._open[user_id]} streams open, at most {self.per_user} per user")
        self._open[user_id] += 1
        return lambda: self._give_back(user_id)

    def _give_back(self, user_id: str) -> None:
        self._open[user_id] -= 1
        if not self._open[user_id]:
            del self._open[user_id]


class _HeldStream(StreamingResponse):
    """A stream that gives its slot back when the server is done with it: finished, disconnected or cancelled."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None], **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _version(svc: Services, town: str | None) -> tuple[int, str]:
    with svc.read() as conn:
        return views.scope_version(conn, town)


def _still_signed_in(request: Request, svc: Services) -> bool:
    try:
        authenticate(request, svc)
    except ApiError:
        return False
    return True


async def changes(request: Request, svc: Services, who: Principal, poll_s: float) -> AsyncIterator[str]:
    """`event: changed` with the scope's order count and an opaque version, whenever either moves.

    The caller's session or token is checked again every RECHECK_S: a stream ends with the sign-out,
    the session's expiry, a disabled account or a revoked token, not when the browser closes.
    """
    last: tuple[int, str] | None = None
    quiet = since_check = 0.0
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        if since_check >= RECHECK_S:
            if not await run_in_threadpool(_still_signed_in, request, svc):
                yield "event: signed_out\ndata: {}\n\n"
                return
            since_check = 0.0
        version = await run_in_threadpool(_version, svc, who.town)
        if version != last:
            payload = json.dumps({"orders": version[0], "version": version[1], "initial": last is None})
            yield f"event: changed\ndata: {payload}\n\n"
            last, quiet = version, 0.0
        elif quiet >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            quiet = 0.0
        await asyncio.sleep(poll_s)
        quiet += poll_s
        since_check += poll_s


@router.get("/stream", responses={200: {"content": {"text/event-stream": {}}}, 401: {"model": Problem},
                                   429: {"model": Problem}},
            summary="实时推送 Server-Sent Events: `changed` whenever orders in scope change")
async def stream(request: Request, who: Annotated[Principal, Depends(allow("stream"))],
                 svc: Annotated[Services, Depends(services)]) -> StreamingResponse:
    release = request.app.state.stream_slots.take(who.user_id)
    return _HeldStream(changes(request, svc, who, request.app.state.poll_s), release,
                       media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
