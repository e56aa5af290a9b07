"""Real servers for the push tests: uvicorn in a thread, or `signoff serve` processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
import websockets.asyncio.client as ws_client

from signoff.api.app import create_app
from signoff.bootstrap import build
from signoff.service.auth import TokenIssuer
from signoff.settings import Settings

SECRET = "push-tests-secret-key-0123456789abcdef"
ISSUER = TokenIssuer(SECRET, 15, 30)


def token(person: str) -> str:
    return ISSUER.access_token(person, person == "u-huangli", datetime.now(UTC))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(base: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{base} did not start")


@contextmanager
def thread_server(database_url: str, **overrides: Any) -> Iterator[str]:
    """`create_app` on uvicorn in this process; yields the base URL."""
    settings = Settings(database_url=database_url, secret_key=SECRET, **overrides)
    services = build(settings)
    app = create_app(settings, services)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        services.db.dispose()


@contextmanager
def process_servers(database_url: str, count: int, **env: str) -> Iterator[list[str]]:
    """`signoff serve` in `count` processes on one database; yields their base URLs."""
    ports = [free_port() for _ in range(count)]
    procs = []
    for i, port in enumerate(ports):
        environment = {
            **os.environ,
            "SIGNOFF_DATABASE_URL": database_url,
            "SIGNOFF_SECRET_KEY": SECRET,
            "SIGNOFF_NODE_ID": f"node-{i}",
            **env,
        }
        procs.append(
            subprocess.Popen(  # noqa: S603  # our own CLI
                [sys.executable, "-m", "signoff.cli", "serve", "--port", str(port)],
                env=environment,
            )
        )
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for base in bases:
            wait_ready(base)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


class Socket:
    """A signed-in WebSocket client that keeps what it received."""

    def __init__(self, conn: Any, welcome: dict[str, Any]) -> None:
        self.conn = conn
        self.welcome = welcome
        self.messages: list[dict[str, Any]] = []

    async def next(self, timeout: float = 10.0) -> dict[str, Any]:
        import asyncio

        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.conn.recv(), timeout))
        self.messages.append(message)
        return message

    async def until(self, kind: str, instance_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Read messages until one of `kind` about `instance_id` (others are kept)."""
        while True:
            message = await self.next(timeout)
            if message.get("event") == kind and message.get("instance_id") == instance_id:
                return message

    async def close(self) -> None:
        await self.conn.close()


async def connect(base: str, person: str, after: int | None = None) -> Socket:
    conn = await ws_client.connect(base.replace("http", "ws", 1) + "/ws")
    await conn.send(json.dumps({"type": "hello", "token": token(person), "after": after}))
    welcome = json.loads(await conn.recv())
    assert welcome["type"] == "welcome", welcome
    return Socket(conn, welcome)


def submit(base: str, person: str, form: dict[str, Any], template: str = "leave") -> dict[str, Any]:
    response = httpx.post(
        f"{base}/api/v1/instances",
        json={"template_key": template, "form": form},
        headers={"Authorization": f"Bearer {token(person)}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def approve(base: str, person: str, task_id: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/api/v1/tasks/{task_id}/approve",
        json={},
        headers={"Authorization": f"Bearer {token(person)}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def require_port(name: str, port: int) -> None:
    """Skip (visibly) when a local service is not running; CI must have it."""
    import pytest

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return
    except OSError:
        message = f"{name} is not running on 127.0.0.1:{port}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI requires it (.ci/run starts it)")
        pytest.skip(message)
