"""Signing in and out (登录), changing one's password, who am I, and the access audit log for admins."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.access import allow
from api.errors import ApiError
from api.identity import SESSION_COOKIE, LoginFailed, Principal, WeakPassword
from api.login_limits import Busy, client_source
from api.services import Services, services
from router.domain.credentials import normalise_user_name
from router.domain.lifecycle import Role
from router.store import accounts
from schemas.api import AccessEntry, LoginRequest, Me, PasswordChange, Problem

router = APIRouter(prefix="/api/v1", tags=["登录 session"])

ROLE_TERMS = {Role.TOWN_OPERATOR: "镇街指挥中心操作员", Role.TOWN_LEADER: "镇街分管领导",
              Role.DISTRICT_DISPATCHER: "区调度员", Role.DISTRICT_SUPERVISOR: "区督办员",
              Role.DISTRICT_OPERATOR: "区中心值班员", Role.ADMIN: "系统管理员",
              Role.INTEGRATION: "系统对接账号"}


def me(who: Principal, svc: Services) -> Me:
    return Me(user_id=who.user_id, display_name=who.display_name, role=who.role.value, role_name=ROLE_TERMS[who.role],
              unit_code=who.unit_code, unit_name=svc.unit_name(who.unit_code), district=who.town is None,
              sees_callers=who.sees_callers, must_change_password=who.must_change_password)


def source_of(request: Request, svc: Services) -> str:
    """The client's address (X-Forwarded-For only from a trusted proxy): what the login limits count against
    and what the access log records."""
    return client_source(request.client.host if request.client else None, request.headers.get("x-forwarded-for"),
                         svc.identity.policy.trusted_proxies)


def _held_back(request: Request, failure: LoginFailed | None) -> ApiError | None:
    """429 for an attempt refused unchecked while its source or account backs off; 503 when every
    password-check slot is busy (failure None); None for a checked failure."""
    metrics = request.app.state.metrics.logins
    if failure is None:
        metrics.labels("busy").inc()
        return ApiError(503, "busy", "登录请求较多，请稍后重试", audit="no password-check slot came free",
                        headers={"Retry-After": "1"})
    if failure.retry_after is None:
        return None
    metrics.labels("throttled").inc()
    seconds = max(1, math.ceil(failure.retry_after.total_seconds()))
    return ApiError(429, "login_throttled", f"登录失败次数过多，请 {seconds} 秒后再试", audit=failure.why,
                    headers={"Retry-After": str(seconds)})


def _set_session(response: Response, session: str, svc: Services) -> None:
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", secure=svc.secure_cookies,
                        max_age=int(svc.identity.policy.session_ttl.total_seconds()), path="/")


_LIMITED = {429: {"model": Problem, "description": "backing off; see Retry-After"},
            503: {"model": Problem, "description": "every password-check slot busy; see Retry-After"}}


@router.post("/session", response_model=Me, responses={401: {"model": Problem}, **_LIMITED},
             summary="登录 Sign in with a password; sets the session cookie")
def login(body: LoginRequest, request: Request, response: Response,
          svc: Annotated[Services, Depends(services)]) -> Me:
    request.state.audit_action = "login"
    request.state.audit_user = normalise_user_name(body.username)
    try:
        who, session = svc.identity.login(body.username, body.password, source_of(request, svc), svc.clock())
    except Busy:
        raise _held_back(request, None) from None
    except LoginFailed as failure:
        if not failure.known:
            request.state.audit_user = None
        if held := _held_back(request, failure):
            raise held from None
        request.app.state.metrics.logins.labels("failed").inc()
        # One answer for every checked failure; only the access log says which it was.
        raise ApiError(401, "login_failed", "用户名或密码错误", audit=failure.why) from None
    request.app.state.metrics.logins.labels("ok").inc()
    request.state.principal = who
    _set_session(response, session, svc)
    return me(who, svc)


@router.post("/me/password", response_model=Me,
             responses={401: {"model": Problem}, 403: {"model": Problem}, 422: {"model": Problem}, **_LIMITED},
             summary="修改密码 Change one's own password; every session ends and a new one is set")
def change_password(body: PasswordChange, request: Request, response: Response,
                    who: Annotated[Principal, Depends(allow("me.password"))],
                    svc: Annotated[Services, Depends(services)]) -> Me:
    try:
        session = svc.identity.change_password(who, body.old, body.new, source_of(request, svc), svc.clock())
    except WeakPassword as weak:
        raise ApiError(422, "weak_password", "新密码不符合要求：" + "；".join(weak.problems)) from None
    except Busy:
        raise _held_back(request, None) from None
    except LoginFailed as failure:
        raise _held_back(request, failure) or ApiError(403, "wrong_password", "原密码错误",
                                                       audit=failure.why) from None
    _set_session(response, session, svc)
    return me(replace(who, must_change_password=False), svc)


@router.delete("/session", status_code=204, responses={401: {"model": Problem}}, summary="退出 Sign out")
def logout(request: Request, who: Annotated[Principal, Depends(allow("logout"))],
           svc: Annotated[Services, Depends(services)]) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        svc.identity.logout(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses={401: {"model": Problem}}, summary="当前用户 Who am I")
def whoami(who: Annotated[Principal, Depends(allow("me"))], svc: Annotated[Services, Depends(services)]) -> Me:
    return me(who, svc)


@router.get("/audit", response_model=list[AccessEntry], responses={401: {"model": Problem}, 403: {"model": Problem}},
            summary="访问审计 The access log: every API action and denial, newest first")
def audit_log(who: Annotated[Principal, Depends(allow("audit.read", {Role.ADMIN, Role.DISTRICT_SUPERVISOR}))],
              svc: Annotated[Services, Depends(services)],
              user: Annotated[str | None, Query(max_length=64)] = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> list[AccessEntry]:
    with svc.read() as conn:
        return [AccessEntry(**{k: r[k] for k in AccessEntry.model_fields}) for r in
                accounts.access_entries(conn, limit, user)]
