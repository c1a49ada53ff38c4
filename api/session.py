"""Signing in and out (登录), who am I, and the access audit log for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.access import allow
from api.errors import ApiError
from api.identity import SESSION_COOKIE, LoginFailed, Principal
from api.services import Services, services
from router.domain.lifecycle import Role
from router.store import accounts
from schemas.api import AccessEntry, LoginRequest, Me, Problem

router = APIRouter(prefix="/api/v1", tags=["登录 session"])

ROLE_TERMS = {Role.TOWN_OPERATOR: "镇街指挥中心操作员", Role.TOWN_LEADER: "镇街分管领导",
              Role.DISTRICT_DISPATCHER: "区调度员", Role.DISTRICT_SUPERVISOR: "区督办员",
              Role.DISTRICT_OPERATOR: "区中心值班员", Role.ADMIN: "系统管理员",
              Role.INTEGRATION: "系统对接账号"}


def me(who: Principal, svc: Services) -> Me:
    return Me(user_id=who.user_id, display_name=who.display_name, role=who.role.value, role_name=ROLE_TERMS[who.role],
              unit_code=who.unit_code, unit_name=svc.unit_name(who.unit_code), district=who.town is None,
              sees_callers=who.sees_callers)


@router.post("/session", response_model=Me, responses={401: {"model": Problem}},
             summary="登录 Sign in with a password; sets the session cookie")
def login(body: LoginRequest, request: Request, response: Response,
          svc: Annotated[Services, Depends(services)]) -> Me:
    request.state.audit_action = "login"
    request.state.audit_user = body.username
    try:
        who, session = svc.identity.login(body.username, body.password, svc.clock())
    except LoginFailed as failure:
        request.app.state.metrics.logins.labels("failed").inc()
        if not failure.known:
            request.state.audit_user = None
        # One answer for every failure; only the access log says which it was.
        raise ApiError(401, "login_failed", "用户名或密码错误，或账户已被临时锁定", audit=failure.why) from None
    request.app.state.metrics.logins.labels("ok").inc()
    request.state.principal = who
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", secure=svc.secure_cookies,
                        max_age=int(svc.identity.session_ttl.total_seconds()), path="/")
    return me(who, svc)


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
