"""Route guards: who is calling (cookie or bearer token) and whether their role may use a route.

Every guarded route names its audit action; the audit middleware writes one access-log row
per request with that action, the caller and the status answered, denials included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.identity import PASSWORD_CHANGE_ACTIONS, SESSION_COOKIE, Principal
from api.services import Services, services
from router.domain.lifecycle import Role


def authenticate(request: Request, svc: Services) -> Principal:
    """The caller behind the bearer token or the session cookie; 401 when there is none or it is no longer valid."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        who = svc.identity.from_token(header[7:].strip(), svc.clock())
    elif cookie := request.cookies.get(SESSION_COOKIE):
        who = svc.identity.from_session(cookie, svc.clock())
    else:
        who = None
    if who is None:
        raise ApiError(401, "unauthenticated", "请先登录", "no valid session cookie or bearer token")
    return who


def allow(action: str, roles: Iterable[Role] | None = None) -> Callable[..., Principal]:
    """A dependency: the signed-in caller, if their role is among `roles` (any role when None)."""
    permitted = frozenset(roles) if roles is not None else None

    def guard(request: Request, svc: Annotated[Services, Depends(services)]) -> Principal:
        request.state.audit_action = action
        who = authenticate(request, svc)
        request.state.principal = who
        if who.must_change_password and action not in PASSWORD_CHANGE_ACTIONS:
            raise ApiError(403, "password_change_required", "密码已被重置，请先修改密码",
                           f"{action} refused until the password is changed")
        if permitted is not None and who.role not in permitted:
            raise ApiError(403, "forbidden", "当前角色无权执行此操作", f"role {who.role} may not {action}")
        return who

    return guard


def scope_town(who: Principal, asked: str | None) -> str | None:
    """The town a query covers: a town role's own, whatever it asks; a district role's choice."""
    if who.town is None:
        return asked
    if asked not in (None, who.town):
        raise ApiError(404, "not_found", "镇街不存在或无权查看", f"{who.role} of {who.town} asked for town {asked}")
    return who.town
