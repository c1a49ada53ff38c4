"""The API application: routes, the access audit, metrics, and the console's static files.

`create_app(services)` is all a server (uvicorn) or a test needs; nothing connects at import.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from swagger_ui_bundle import swagger_ui_path

from api import (
    cockpit,
    dispute_lists,
    hotspots,
    inbox,
    incidents,
    live,
    monthly_report,
    orders,
    photos,
    ranking,
    safety_index,
    session,
    supervision,
)
from api.errors import ApiError, answer, http_error, invalid
from api.limits import AccountRate, BodyLimit, BodyTooLarge, HttpLimits, too_large
from api.live import StreamSlots
from api.metrics import ApiMetrics
from api.services import Services, principal_of
from router.store import accounts
from schemas.api import Problem

log = structlog.get_logger("fengqiao.api")
CONSOLE = Path(__file__).with_name("console")
# The console loads only its own files and is never framed: no injected script, no click-jacking.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Swagger UI starts itself from one inline script and styles itself inline; still nothing from elsewhere.
DOCS_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy":
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"}
# Behind HTTPS (secure cookies): browsers must not try plain HTTP again for a year.
HSTS = {"Strict-Transport-Security": "max-age=31536000"}
API_VERSION = "1.0.0"
DOCS_ASSETS = "/api/docs/assets"


def _outcome(request: Request, status: int) -> str:
    if status < 400:
        return "allowed"
    if getattr(request.state, "audit_action", None) == "login":
        return "failed"
    if status in (401, 403, 404):
        return "denied"
    return "rejected" if status < 500 else "error"


def _refuse_nul(request: Request) -> Response | None:
    """422 for a NUL character in the path or query: PostgreSQL cannot compare or store one (it was a 500)."""
    query = request.query_params.multi_items()
    if "\x00" in request.scope["path"] or any("\x00" in k or "\x00" in v for k, v in query):
        problem = Problem(code="invalid_request", message="请求参数有误", detail="NUL character in the path or query")
        request.state.audit_detail = problem.detail
        return JSONResponse(problem.model_dump(), status_code=422)
    return None


def _answer_headers(request: Request, response: Response, route: str, https: bool) -> None:
    """The headers every answer carries: security, HSTS behind HTTPS, no caching of the API's (personal) data,
    and redirects relative to the request rather than built from its `Host` header, which the client chose."""
    response.headers.update(DOCS_HEADERS if route == "/api/docs" else SECURITY_HEADERS)
    if https:
        response.headers.update(HSTS)
    if request.url.path.startswith("/api/v1/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if location := response.headers.get("location"):
        parts = urlsplit(location)
        response.headers["location"] = parts._replace(scheme="", netloc="").geturl() or "/"


def create_app(services: Services, metrics: ApiMetrics | None = None, poll_s: float = 1.0,
               limits: HttpLimits | None = None) -> FastAPI:
    limits = limits or HttpLimits()
    app = FastAPI(
        title="Fengqiao 枫桥 API",
        version=API_VERSION,
        description="工单闭环 work orders from the 110 centre to town command centres: list, act, supervise. "
                    "Sign in with `POST /api/v1/session` (console cookie) or send `Authorization: Bearer fq_...` "
                    "(integration accounts). Town roles see only their own town: another town's order is a 404.",
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
        # Every 422 is our Problem (api.errors.invalid), not FastAPI's default shape.
        responses={422: {"model": Problem}},
    )
    app.state.services = services
    app.state.metrics = metrics or ApiMetrics.create()
    app.state.poll_s = poll_s
    app.state.stream_slots = StreamSlots(limits.streams_per_user)
    app.state.incident_rate = AccountRate(limits.incident_calls_per_minute)
    app.state.incidents_per_batch = limits.incidents_per_batch
    app.add_exception_handler(ApiError, answer)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(BodyTooLarge, too_large)
    app.add_exception_handler(HTTPException, http_error)
    for module in (session, orders, photos, supervision, inbox, ranking, cockpit, hotspots, safety_index, dispute_lists,
                   monthly_report, live, incidents):
        app.include_router(module.router)
    # Added before the audit below, so inside it: a refused body is answered, counted and audited like any request.
    app.add_middleware(BodyLimit, max_bytes=limits.body_max_bytes,
                       routes=(photos.upload_cap(services), incidents.body_cap(limits)))

    @app.middleware("http")
    async def audit_and_measure(request: Request, call_next):
        """One access-log row per API request (denials included) and the request metrics."""
        started = time.perf_counter()
        try:
            response = _refuse_nul(request) or await call_next(request)
        except Exception:
            # A bug: answered, counted and audited like any request, and logged with its trace.
            log.exception("unhandled API error", path=request.url.path, method=request.method)
            request.state.audit_detail = "internal error"
            response = JSONResponse(Problem(code="internal", message="服务器内部错误，请稍后重试").model_dump(),
                                    status_code=500)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        m = app.state.metrics
        m.requests.labels(route, request.method, str(response.status_code)).inc()
        m.request_seconds.labels(route).observe(time.perf_counter() - started)
        # The engine's clock, which deadlines are measured by: the console's countdowns follow it.
        response.headers["X-Fengqiao-Time"] = services.clock().isoformat(timespec="milliseconds")
        _answer_headers(request, response, route, services.secure_cookies)
        if request.url.path.startswith("/api/v1/") and route != "/api/v1/openapi.json":
            if response.status_code in (401, 403, 404):
                m.denials.labels(str(response.status_code)).inc()
            # The insert is blocking I/O: off the event loop, or one slow write stalls every request.
            await run_in_threadpool(_audit, request, response.status_code, route)
        return response

    def _audit(request: Request, status: int, route: str) -> None:
        who = principal_of(request)
        asked = (request.scope.get("path_params") or {}).get("order_id", None)
        with services.transaction() as conn:
            accounts.audit(conn, at=services.clock(), user_id=who.user_id if who else getattr(
                request.state, "audit_user", None), role=who.role.value if who else None,
                unit_code=who.unit_code if who else None,
                action=getattr(request.state, "audit_action", None) or f"{request.method} {route}"[:48],
                order_id=asked[:32] if asked else None,  # the column's width: a longer id is no order's
                outcome=_outcome(request, status), status=status,
                detail=getattr(request.state, "audit_detail", None),
                source_ip=session.source_of(request, services))

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        """Liveness: the process answers. Restarting it would not bring a lost database back."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: the database answers, so requests can be served; 503 while it does not."""
        try:
            with services.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as error:
            log.warning("database_unreachable", reason=(str(error.orig or error).strip().splitlines() or [""])[0])
            problem = Problem(code="database_unavailable", message="数据库暂不可用，请稍后再试")
            return JSONResponse(problem.model_dump(), status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        """Swagger UI from the product's own copy (swagger-ui-bundle), so the docs work offline."""
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} — 接口文档",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/console/")

    if CONSOLE.is_dir():
        app.mount("/console", StaticFiles(directory=CONSOLE, html=True), name="console")
    return app
