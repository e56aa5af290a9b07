"""A stand-in for WeCom's server API on 127.0.0.1: `gettoken` and `getapprovaldetail`, with
the approval details a test puts in, recording every call (to see tokens being reused)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

SECRET = "approval-app-secret"


@dataclass
class FakeWecom:
    url: str = ""
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # SpNo -> info
    calls: list[str] = field(default_factory=list)
    tokens: int = 0
    down: bool = False

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
        self.calls.append(path)
        if path == "/cgi-bin/gettoken":
            if query.get("corpsecret") != [SECRET]:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            self.tokens += 1
            return {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": f"T{self.tokens}",
                "expires_in": 7200,
            }
        if path == "/cgi-bin/oa/getapprovaldetail" and method == "POST":
            if query.get("access_token") != [f"T{self.tokens}"]:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            sp_no = json.loads(body)["sp_no"]
            info = self.details.get(sp_no)
            if info is None:
                return {"errcode": 301025, "errmsg": "no such approval"}
            return {"errcode": 0, "errmsg": "ok", "info": info}
        return {"errcode": 404, "errmsg": "not here"}


@pytest.fixture
def wecom() -> Iterator[FakeWecom]:
    fake = FakeWecom()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            if fake.down:
                self.send_response(502)
                self.end_headers()
                return
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            answer = json.dumps(fake.answer(method, parts.path, parse_qs(parts.query), body))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def do_GET(self) -> None:  # the stdlib's name
            self._serve("GET")

        def do_POST(self) -> None:  # the stdlib's name
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
