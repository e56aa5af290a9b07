"""Fixtures for the events tests: a dispatcher on each database, requests to play with,
and a real webhook receiver on 127.0.0.1 that verifies deliveries with `standardwebhooks`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from signoff.domain.commands import Approve
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome, act, start
from signoff.settings import Settings
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"retry_base_seconds": 1, "mail_batch_seconds": 0, **overrides}
    return Settings(**values)


@pytest.fixture
def dispatcher(seeded: Database, clock: ManualClock) -> Dispatcher:
    return Dispatcher(seeded, clock, settings())


def submit_leave(db: Database, clock: ManualClock, applicant: str = "u-zhangsan") -> Outcome:
    return start(
        lambda: SqlUnitOfWork(db), clock, actor=applicant, template_key="leave", form=LEAVE
    )


def approve_next(db: Database, clock: ManualClock, outcome: Outcome) -> Outcome:
    task_id, assignee, _ = outcome.pending[0]
    return act(
        SqlUnitOfWork(db), clock, outcome.instance_id, Approve(actor=assignee, task_id=task_id)
    )


def rows(db: Database, table: sa.Table, *where: Any) -> list[Any]:
    with db.reader() as conn:
        return list(conn.execute(sa.select(table).where(*where)))


@dataclass
class Receiver:
    """A webhook receiver: verifies each delivery's signature, answers 204, or 503 while down."""

    secret: str = ""
    down: bool = False
    delay: float = 0.0  # seconds before answering (a slow receiver)
    received: list[dict[str, Any]] = field(default_factory=list)  # verified CloudEvents
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        payload: dict[str, Any] = Webhook(self.secret).verify(body, headers)
        return payload


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the stdlib's name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if found.delay:
                time.sleep(found.delay)
            with found.lock:
                if found.down:
                    found.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                event = found.verify(body, {k.lower(): v for k, v in self.headers.items()})
                found.received.append(event)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def run_step(dispatcher: Dispatcher, step: Any, timeout: float = 20.0) -> int:
    """Run one async step of `dispatcher` (`dispatcher.deliver_webhooks`, ...) in a fresh
    event loop, and close the connections it made (they belong to that loop). A step that
    has not finished after `timeout` seconds fails the test instead of hanging it."""
    import asyncio

    async def once() -> int:
        try:
            done: int = await asyncio.wait_for(step(), timeout)
            return done
        except TimeoutError:
            raise AssertionError(f"{step.__name__} did not finish in {timeout} s") from None
        finally:
            await dispatcher.stop()

    return asyncio.run(once())


def at_once(workers: list[Dispatcher], step: Callable[[Dispatcher], int]) -> list[int]:
    """Run `step` on every worker in its own thread, all released at the same moment;
    returns what each returned (an error in any thread fails the test)."""
    release = threading.Barrier(len(workers))
    done: list[int] = []
    errors: list[BaseException] = []

    def work(dispatcher: Dispatcher) -> None:
        try:
            release.wait()
            done.append(step(dispatcher))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    return done
