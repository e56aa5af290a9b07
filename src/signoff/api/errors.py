"""One error format everywhere: RFC 9457 `application/problem+json`.

    {"type": "https://signoff.dev/problems/node_already_decided",
     "title": "Conflict", "status": 409, "code": "node_already_decided",
     "detail": "node hr was already decided", "instance": "/api/v1/tasks/...",
     "errors": [{"path": "days", "rule": "required", "message": "..."}],
     "request_id": "..."}

The HTTP status is chosen here, from the error's kind, and nowhere else.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from signoff.api.ratelimit import RateLimited
from signoff.domain.errors import Conflict, Forbidden, Invalid, NotFound, SignoffError
from signoff.service.auth import NotAuthenticated

log = logging.getLogger("signoff.http")
PROBLEM = "application/problem+json"
TYPE_BASE = "https://signoff.dev/problems/"

STATUS: list[tuple[type[SignoffError], int]] = [
    (RateLimited, 429),
    (NotAuthenticated, 401),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (Invalid, 422),
]
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_of(error: SignoffError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def problem_body(error: SignoffError) -> dict[str, Any]:
    """The problem document of a domain error (without request-specific members)."""
    status = status_of(error)
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": error.code,
        "detail": error.message,
    }
    problems = [
        {"path": p.path, "rule": p.rule, "message": p.message}
        for p in getattr(error, "problems", [])
    ]
    if problems:
        body["errors"] = problems
    details = _jsonable(error.details)
    if details:
        body["details"] = details
    return body


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _jsonable(details: dict[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        try:
            json.dumps(value)
            out[key] = value
        except TypeError:
            out[key] = str(value)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(SignoffError)
    async def _signoff(request: Request, error: SignoffError) -> JSONResponse:
        problems = [
            {"path": p.path, "rule": p.rule, "message": p.message}
            for p in getattr(error, "problems", [])
        ]
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
        if isinstance(error, RateLimited):
            headers = {"Retry-After": str(error.retry_after)}
        return problem(
            request,
            status_of(error),
            error.code,
            error.message,
            problems,
            headers,
            details=_jsonable(error.details) or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        malformed = False
        for item in error.errors():
            loc = [str(p) for p in item.get("loc", ()) if p != "body"]
            if item.get("type") == "json_invalid":
                malformed = True
            errors.append(
                {
                    "path": _path(loc),
                    "rule": str(item.get("type", "invalid")),
                    "message": item.get("msg", ""),
                }
            )
        if malformed:
            return problem(
                request, 400, "malformed_json", "the request body is not valid JSON", errors
            )
        return problem(request, 422, "request_invalid", "the request does not fit the API", errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", extra={"fields": {"path": request.url.path}})
        response = problem(request, 500, "internal_error", "something went wrong on our side")
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            error.status_code, "http_error"
        )
        headers = dict(error.headers) if error.headers else None
        return problem(request, error.status_code, code, str(error.detail), headers=headers)


def _path(loc: list[str]) -> str:
    out = ""
    for part in loc:
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out
