"""Request ids, JSON logs and Prometheus metrics, as one pure ASGI middleware.

Every response carries `X-Request-ID` (the client's, if it sent a sane one, else a new
one); every request is logged as one JSON line with it. Bodies over the configured size
are refused with 413 before they are read (uploads, whose paths `uploads` matches, have a
limit of their own).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
log = logging.getLogger("signoff.http")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("signoff")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "signoff_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "signoff_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.actions = Counter(
            "signoff_actions_total",
            "Commands applied",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.inbox_size = Histogram(
            "signoff_inbox_pending_size",
            "Pending tasks in the inboxes people opened",
            registry=self.registry,
            buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
        )
        self.pending_total = Gauge(
            "signoff_pending_tasks", "Pending tasks in the database", registry=self.registry
        )


class Observability:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body: int,
        uploads: tuple[re.Pattern[str], int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse(send, request_id, scope["path"], 400, "bad_request", "NUL in the URL")
            self._record(scope, 400, started, request_id)
            return
        limit = self.max_body
        if self.uploads is not None and self.uploads[0].fullmatch(scope["path"]):
            limit = self.uploads[1]
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, request_id, scope["path"], limit)
            self._record(scope, 413, started, request_id)
            return

        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, counted, send_with_id)
        finally:
            self._record(scope, status, started, request_id)

    def _record(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(scope["method"], name, str(status)).inc()
        self.metrics.latency.labels(scope["method"], name).observe(elapsed)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": name,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                        "caller": scope.get("state", {}).get("caller"),
                    }
                },
            )


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI passes HTTP exceptions on to the handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


async def _too_large(send: Send, request_id: str, path: str, limit: int) -> None:
    detail = f"the request body is over {limit} bytes"
    await _refuse(send, request_id, path, 413, "body_too_large", detail)


async def _refuse(
    send: Send, request_id: str, path: str, status: int, code: str, detail: str
) -> None:
    body = json.dumps(
        {
            "type": f"https://signoff.dev/problems/{code}",
            "title": "Content Too Large" if status == 413 else "Bad Request",
            "status": status,
            "code": code,
            "detail": detail,
            "instance": path,
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
