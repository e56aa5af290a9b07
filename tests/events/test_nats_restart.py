"""A NATS server stopped and started again: deliveries wait with the error while it is
down, then every event is stored exactly once, in order per instance. The test runs its
own `nats-server` (JetStream, a temporary store) so stopping it disturbs nobody."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.store.database import Database
from signoff.store.schema import deliveries, outbox
from tests.events.conftest import approve_next, rows, run_step, settings, submit_leave

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class Server:
    def __init__(self, store: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603  # the machine's nats-server
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nats-server did not start")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not os.path.exists(NATS_SERVER):
        if os.environ.get("CI"):
            pytest.fail("nats-server is not installed; CI must run the NATS tests")
        pytest.skip("needs the nats-server binary")
    found = Server(tmp_path / "js")
    found.start()
    yield found
    if found.proc is not None and found.proc.poll() is None:
        found.stop()


def stored(url: str, stream: str) -> list[Any]:
    async def read() -> list[Any]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            state = (await js.stream_info(stream)).state
            return [await js.get_msg(stream, seq) for seq in range(1, state.last_seq + 1)]
        finally:
            await nc.close()

    return asyncio.run(read())


def test_while_the_nats_server_is_down_nothing_is_lost_and_after_it_is_back_nothing_doubles(
    seeded: Database, clock: ManualClock, server: Server
) -> None:
    dispatcher = Dispatcher(seeded, clock, settings(nats_url=server.url, nats_stream="RESTART"))
    first = submit_leave(seeded, clock)
    dispatcher.relay_once()
    while run_step(dispatcher, dispatcher.deliver_nats):
        pass
    server.stop()  # the broker goes away
    approve_next(seeded, clock, first)
    second = submit_leave(seeded, clock, applicant="u-lisi")
    dispatcher.relay_once()
    assert run_step(dispatcher, dispatcher.deliver_nats)  # tried, and failed
    waiting = [d for d in rows(seeded, deliveries) if d.status == "pending"]
    assert waiting and all(d.last_error for d in waiting if d.attempts)
    server.start()  # back, with its stored stream
    for _ in range(50):
        clock.advance(minutes=5)  # past every backoff
        if not run_step(dispatcher, dispatcher.deliver_nats) and all(
            d.status == "delivered" for d in rows(seeded, deliveries)
        ):
            break
    assert {d.status for d in rows(seeded, deliveries)} == {"delivered"}
    messages = stored(server.url, "RESTART")
    ids = [m.headers["Nats-Msg-Id"] for m in messages]
    assert len(ids) == len(set(ids))  # nothing twice
    sent = sorted(rows(seeded, outbox), key=lambda r: r.position)
    assert sorted(ids) == sorted(r.event_id for r in sent)  # nothing lost
    for instance in (first.instance_id, second.instance_id):
        mine = [i for i in ids if i.startswith(instance)]
        assert mine == [r.event_id for r in sent if r.instance_id == instance]  # in order
