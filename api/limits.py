"""Request bodies capped before they are parsed: 413 for a body past its route's cap.

The cap sits at the ASGI layer, ahead of FastAPI: a `Content-Length` past it is answered at once,
before a byte of the body is read, and a body without one (chunked) is counted as it arrives and
cut where it passes the cap. A 16 MB login is never held, let alone parsed. Both answers close
the connection, so the server stops reading what the client is still sending.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.api import Problem

CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class HttpLimits:
    """What one request or one user may take of the API process (settings: `FENGQIAO_API_*`)."""

    body_max_bytes: int = 64 * 1024
    streams_per_user: int = 5
    incidents_max_bytes: int = 4 * 1024 * 1024  # POST /api/v1/incidents: a batch of records, not one form
    incidents_per_batch: int = 500
    incident_calls_per_minute: int = 60  # per integration account and API process; the burst is as large


@dataclass(frozen=True)
class BodyCap:
    """A cap of its own for `method` on paths matching `path` (an upload), answered with `problem` past it."""

    method: str
    path: re.Pattern[str]
    max_bytes: int
    problem: Problem


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap; answered with the cap's Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(413, problem.detail, headers=CLOSE)
        self.problem = problem


def too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
    request.state.audit_detail = error.problem.detail
    return JSONResponse(error.problem.model_dump(), status_code=413, headers=error.headers)


class BodyLimit:
    """ASGI middleware: every request body within `max_bytes`, or its route's own cap among `routes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, routes: Sequence[BodyCap] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = tuple(routes)

    def _cap(self, scope: Scope) -> tuple[int, Problem]:
        for cap in self.routes:
            if scope["method"] == cap.method and cap.path.fullmatch(scope["path"]):
                return cap.max_bytes, cap.problem
        kib = self.max_bytes // 1024
        return self.max_bytes, Problem(code="request_too_large", message=f"请求内容过大，最多 {kib} KB",
                                       detail=f"more than {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, problem = self._cap(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            refused = BodyTooLarge(problem.model_copy(update={"detail": f"Content-Length {declared}, at most {limit}"}))
            await too_large(Request(scope), refused)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(problem)
            return message

        await self.app(scope, counted, send)


class AccountRate:
    """A token bucket per account in this API process: `per_minute` calls a minute, up to `per_minute` at once.

    Per process: behind a load balancer with N API processes an account may make up to N times as many.
    Only authenticated accounts get a bucket, so the table is as large as the accounts that call.
    """

    def __init__(self, per_minute: int) -> None:
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60.0
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._lock = threading.Lock()

    def take(self, account: str, now: datetime) -> int | None:
        """Spend one call of `account`'s at `now`: None when allowed, else the whole seconds until one is free."""
        with self._lock:
            tokens, then = self._buckets.get(account, (self._capacity, now))
            tokens = min(self._capacity, tokens + max(0.0, (now - then).total_seconds()) * self._per_second)
            if tokens >= 1.0:
                self._buckets[account] = (tokens - 1.0, now)
                return None
            self._buckets[account] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self._per_second))
