"""Running the real server for the browser tests: a seeded SQLite database, `signoff serve`
(or any ASGI app) in a subprocess on a free port, and API clients for each demo person."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from signoff.service.clock import ManualClock
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.uow import SqlUnitOfWork
from tests.api.conftest import ADMIN, PASSWORD, password_hash
from tests.conftest import seed

ROOT = Path(__file__).resolve().parents[2]
SECRET = "web-test-secret-key-that-is-long-enough-0123456789"
SESSION_KEY = "signoff.session"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_database(path: Path) -> str:
    """The demo company, the four example templates, every person's password PASSWORD."""
    url = f"sqlite:///{path}"
    db = Database(url)
    try:
        upgrade(db)
        clock = ManualClock(datetime.now(UTC))
        seed(db, clock)
        with SqlUnitOfWork(db) as uow:
            for person in uow.directory.principal_ids():
                uow.accounts.set_account(person, password_hash(), person == ADMIN, clock.now())
            uow.commit()
    finally:
        db.dispose()
    return url


@dataclass
class Server:
    """A running server: `url` is the app's base (with its path prefix, ending in /)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str = ""  # the database it serves (tests may write to it directly)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        parsed = httpx.URL(self.url)
        return f"{parsed.scheme}://{parsed.host}:{parsed.port}"

    @property
    def api(self) -> str:
        return self.url + "api/v1"

    def sign_in(self, person: str) -> dict[str, Any]:
        """Tokens for a person (one sign-in per person per session)."""
        if person not in self.tokens:
            response = httpx.post(
                f"{self.api}/auth/login",
                json={"principal_id": person, "password": PASSWORD},
                timeout=10,
            )
            response.raise_for_status()
            self.tokens[person] = response.json()
        return self.tokens[person]

    def client(self, person: str) -> httpx.Client:
        token = self.sign_in(person)["access_token"]
        return httpx.Client(
            base_url=self.api + "/", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def call(self, person: str, method: str, path: str, **kwargs: Any) -> Any:
        with self.client(person) as client:
            response = client.request(method, path, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def storage_state(self, person: str) -> dict[str, Any]:
        """A browser storage state in which `person` is signed in."""
        value = json.dumps(self.sign_in(person))
        return {
            "cookies": [],
            "origins": [
                {"origin": self.origin, "localStorage": [{"name": SESSION_KEY, "value": value}]}
            ],
        }


@contextmanager
def serve(
    command: Sequence[str], database_url: str, log: Path, prefix: str = ""
) -> Iterator[Server]:
    """Run a server command (it must listen on $PORT) until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "SIGNOFF_DATABASE_URL": database_url,
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        "SIGNOFF_LOG_LEVEL": "warning",
        # webhooks to nowhere give up within seconds: the dead-letter page has something to show
        "SIGNOFF_RETRY_WINDOW_HOURS": "0.0005",
        "SIGNOFF_RETRY_BASE_SECONDS": "0.2",
        "SIGNOFF_WEBHOOK_TIMEOUT_SECONDS": "2",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SIGNOFF_CONFIG", None)
    args = [a.replace("{port}", str(port)) for a in command]
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603  # our own command line
    server = Server(f"http://127.0.0.1:{port}{prefix}/", process, log, database_url)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited: {server.log.read_text(errors='replace')}")
        try:
            if httpx.get(server.url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start: {server.log.read_text(errors='replace')}")


def signoff_serve() -> list[str]:
    return [sys.executable, "-m", "signoff.cli", "serve", "--port", "{port}"]
