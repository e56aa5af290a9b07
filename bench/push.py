"""WebSocket push: connections one server process holds, and approval-to-socket latency.

Starts `signoff serve` (one uvicorn process) on a fresh SQLite database with the demo
company, opens N WebSocket connections (default 5,000, spread over the demo people,
each signed in with a real access token), then plays leave requests: the applicant
submits, and each approver approves the moment their `task.assigned` message arrives on
one of their sockets. For every approval it records

- commit -> socket: from the moment the approval's HTTP answer arrived (the command had
  committed) to the next approver's `task.assigned` on their socket — this can be
  negative when the push overtakes the HTTP answer; and
- request -> socket: from sending the approval to that message (an upper bound).

It prints p50/p99 of both, the server's resident memory before and after the connections
and the memory per connection. Run: `.venv/bin/python -m bench.push [--connections N]
[--requests N]`. A script, not a test; it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets.asyncio.client as ws_client

from bench.http import SECRET, free_port, serve
from signoff.service.auth import TokenIssuer
from signoff.service.directory_import import import_directory_file
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = ["u-zhangsan", "u-chenjie", "u-lina", "u-huangli", "u-xuting", "u-wangwu", "u-lisi"]
LEAVE = {
    "template_key": "leave",
    "form": {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-05"],
        "days": 5,
        "reason": "bench",
    },
}


def prepare(url: str) -> None:
    db = Database(url)
    upgrade(db)
    import_directory_file(SqlUnitOfWork(db), ROOT / "examples" / "directory.json")
    with SqlUnitOfWork(db) as uow:
        definition = json.loads((ROOT / "examples/templates/leave.json").read_text())
        uow.templates.publish(definition, None, datetime.now(UTC))
        uow.commit()
    db.dispose()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Crowd:
    """Every open socket; `task.assigned` messages are handed to whoever waits for them."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.sockets: list[Any] = []

    async def open(self, base: str, person: str, token: str) -> None:
        conn = await ws_client.connect(base + "/ws", max_queue=None, ping_interval=None)
        await conn.send(json.dumps({"type": "hello", "token": token, "after": None}))
        json.loads(await conn.recv())  # welcome
        self.sockets.append(conn)
        asyncio.get_running_loop().create_task(self.listen(conn, person))

    async def listen(self, conn: Any, person: str) -> None:
        async for text in conn:
            message = json.loads(text)
            if message.get("type") != "task.assigned":
                continue
            key = (person, message["data"]["task_id"])
            waiter = self.waiting.get(key)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())

    def expect(self, person: str, task_id: str) -> asyncio.Future[float]:
        return self.waiting.setdefault(
            (person, task_id), asyncio.get_running_loop().create_future()
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def play(base: str, connections: int, requests: int, pid: int) -> None:
    issuer = TokenIssuer(SECRET, 60, 1)
    now = datetime.now(UTC)
    tokens = {p: issuer.access_token(p, p == "u-huangli", now) for p in PEOPLE}
    crowd = Crowd()
    before = rss_kib(pid)
    t0 = time.perf_counter()
    batch = 200
    for start in range(0, connections, batch):
        await asyncio.gather(
            *(
                crowd.open(
                    base.replace("http", "ws", 1),
                    PEOPLE[i % len(PEOPLE)],
                    tokens[PEOPLE[i % len(PEOPLE)]],
                )
                for i in range(start, min(connections, start + batch))
            )
        )
    opened = time.perf_counter() - t0
    await asyncio.sleep(2)
    after = rss_kib(pid)
    commit_to_socket: list[float] = []
    request_to_socket: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for _ in range(requests):
            answer = await client.post(
                "/api/v1/instances", json=LEAVE, headers=_h(tokens["u-zhangsan"])
            )
            answer.raise_for_status()
            pending = answer.json()["pending"]
            while pending:
                task = pending[0]
                sent = time.perf_counter()
                answer = await client.post(
                    f"/api/v1/tasks/{task['task_id']}/approve",
                    json={},
                    headers=_h(tokens[task["assignee"]]),
                )
                answered = time.perf_counter()
                answer.raise_for_status()
                pending = answer.json()["pending"]
                if not pending:
                    break
                nxt = pending[0]
                if nxt["assignee"] not in tokens:
                    break
                arrived = await asyncio.wait_for(crowd.expect(nxt["assignee"], nxt["task_id"]), 30)
                commit_to_socket.append(arrived - answered)
                request_to_socket.append(arrived - sent)
    print(f"connections held:        {len(crowd.sockets):>8} (opened in {opened:.1f} s)")
    print(f"server memory before:    {before / 1024:>8.1f} MiB")
    print(f"server memory after:     {after / 1024:>8.1f} MiB")
    per = (after - before) / max(len(crowd.sockets), 1)
    print(f"memory per connection:   {per:>8.1f} KiB")
    if commit_to_socket:
        print(f"approvals measured:      {len(commit_to_socket):>8}")
        print(
            f"commit -> socket:  p50 {pct(commit_to_socket, 0.5):7.1f} ms   "
            f"p99 {pct(commit_to_socket, 0.99):7.1f} ms"
        )
        print(
            f"request -> socket: p50 {pct(request_to_socket, 0.5):7.1f} ms   "
            f"p99 {pct(request_to_socket, 0.99):7.1f} ms   "
            f"(mean {statistics.fmean(request_to_socket) * 1000:.1f} ms)"
        )
    for conn in crowd.sockets:
        await conn.close()


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/push.db"
        prepare(url)
        port = free_port()
        server = serve(url, port)
        try:
            asyncio.run(
                play(f"http://127.0.0.1:{port}", args.connections, args.requests, server.pid)
            )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
