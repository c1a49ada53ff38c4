"""The API's one error type and its answer: a `Problem` with a stable code and a Chinese message."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from schemas.api import Problem


class ApiError(Exception):
    """An answer other than success: `status`, a machine `code`, a message for the operator."""

    def __init__(self, status: int, code: str, message: str, detail: str | None = None,
                 audit: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or message)
        self.status = status
        self.problem = Problem(code=code, message=message, detail=detail)
        self.audit = audit  # for the access log only, never in the answer
        self.headers = headers  # Retry-After on 429 and 503


def not_found(what: str = "工单") -> ApiError:
    """Also the answer for another town's order: a guessed id must not reveal that it exists."""
    return ApiError(404, "not_found", f"{what}不存在或无权查看")


def answer(request: Request, error: ApiError) -> JSONResponse:
    request.state.audit_detail = error.audit or error.problem.detail or error.problem.code
    return JSONResponse(error.problem.model_dump(), status_code=error.status, headers=error.headers)


def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with the first few problems named field by field."""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]]
    problem = Problem(code="invalid_request", message="请求参数有误", detail="; ".join(parts))
    request.state.audit_detail = problem.detail
    return JSONResponse(problem.model_dump(), status_code=422)


# Starlette's and FastAPI's own refusals (no such route, wrong method, unreadable body), as Problems.
_HTTP_PROBLEMS = {
    400: ("bad_request", "请求格式有误"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
}


def http_error(request: Request, error: HTTPException) -> JSONResponse:
    """A framework's HTTPException in the documented Problem shape, its headers (`Allow`) kept."""
    code, message = _HTTP_PROBLEMS.get(error.status_code, (f"http_{error.status_code}", "请求未能处理"))
    problem = Problem(code=code, message=message, detail=str(error.detail))
    request.state.audit_detail = problem.detail
    return JSONResponse(problem.model_dump(), status_code=error.status_code, headers=error.headers)
