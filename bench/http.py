"""Approvals through the running HTTP server, next to a trivial endpoint of the same server.

Starts `signoff serve` (uvicorn, one process) on a fresh SQLite database (and, with
`--pg`, on a PostgreSQL database of its own, created and dropped here), with the demo
company and the leave template, signs everyone in with real passwords, then for each
concurrency level (1, 8 and 32 clients by default), in the same run:

1. submits: for a quarter of the time each client submits leave requests as 张三;
2. approvals: the clients then approve every request to the end, each approval as the
   person whose turn it is (their own access token), the next task taken from the
   answer;
3. trivial: `GET /healthz` (a sync route, like the command routes) at the same
   concurrency, for as long.

For approvals and the trivial endpoint it prints requests per second, p50 / p99
latency, and the server's CPU per request (from /proc: the cost of a request
regardless of the client); complete leave requests per second; and the ratios
approval / trivial of the p50 latency and of the server CPU per request. Goal: an
approval action costs at most 2x the trivial endpoint.

With `--no-worker` the server runs without its outbox relay, sinks and timers
(`SIGNOFF_WORKER=false`, as when a separate `signoff worker` does that work): the
difference is what the in-process worker costs per approval.

Run: `.venv/bin/python -m bench.http [--seconds N] [--clients 1,8,32] [--pg] [--quick]
[--no-worker]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named after the issue's `bench/http.py`; keep it from hiding the standard
# library's `http` package from everything imported below.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from bench.results import Result, command_line, quantile
from bench.store import fresh_schema, pg_available, pg_database
from signoff.service.auth import set_password
from signoff.service.clock import SystemClock
from signoff.service.directory_import import import_directory_file
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"  # noqa: S105  # a throwaway database's password
PEOPLE = ("u-zhangsan", "u-chenjie", "u-lina", "u-huangli", "u-xuting")
LEAVE = {
    "template_key": "leave",
    "form": {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-05"],
        "days": 5,
        "reason": "bench",
    },
}
TICK = os.sysconf("SC_CLK_TCK")


def prepare(url: str) -> None:
    db = Database(url)
    fresh_schema(db)
    import_directory_file(SqlUnitOfWork(db), ROOT / "examples" / "directory.json")
    with SqlUnitOfWork(db) as uow:
        definition = json.loads((ROOT / "examples/templates/leave.json").read_text())
        uow.templates.publish(definition, None, datetime.now(UTC))
        uow.commit()
    for person in PEOPLE:
        set_password(SqlUnitOfWork(db), SystemClock(), person, PASSWORD)
    db.dispose()


SECRET = "bench-secret-key-" + "x" * 32  # a throwaway server's key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(url: str, port: int, worker: bool = True) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGNOFF_WORKER": "true" if worker else "false",
        "SIGNOFF_DATABASE_URL": url,
        "SIGNOFF_SECRET_KEY": SECRET,
        "SIGNOFF_LOG_LEVEL": "warning",
        "SIGNOFF_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
    }
    server = subprocess.Popen(  # noqa: S603  # our own interpreter and module
        [sys.executable, "-m", "signoff.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.server_cpu / max(1, len(self.latencies)) * 1000

    def p(self, q: float) -> float:
        return quantile(self.latencies, q) * 1000


async def tokens(client: httpx.AsyncClient) -> dict[str, str]:
    out = {}
    for person in PEOPLE:
        answer = await client.post(
            "/api/v1/auth/login", json={"principal_id": person, "password": PASSWORD}
        )
        answer.raise_for_status()
        out[person] = answer.json()["access_token"]
    return out


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def submitter(
    client: httpx.AsyncClient, auth: dict[str, str], until: float, phase: Phase, out: list
) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        answer = await client.post("/api/v1/instances", json=LEAVE, headers=_h(auth["u-zhangsan"]))
        phase.latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()
        out.append(answer.json()["pending"])


async def approver(
    client: httpx.AsyncClient, auth: dict[str, str], mine: list, phase: Phase
) -> None:
    for pending in mine:
        while pending:
            task = pending[0]
            t0 = time.perf_counter()
            answer = await client.post(
                f"/api/v1/tasks/{task['task_id']}/approve",
                json={"comment": "ok"},
                headers=_h(auth[task["assignee"]]),
            )
            phase.latencies.append(time.perf_counter() - t0)
            answer.raise_for_status()
            pending = answer.json()["pending"]


async def trivial(client: httpx.AsyncClient, until: float, phase: Phase) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        answer = await client.get("/healthz")
        phase.latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()


async def timed(pid: int, phase: Phase, *work: object) -> None:
    cpu, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*work)  # type: ignore[misc]
    phase.seconds = time.perf_counter() - t0
    phase.server_cpu = cpu_seconds(pid) - cpu


async def level(base: str, pid: int, clients: int, seconds: float) -> dict[str, Phase]:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        auth = await tokens(client)
        phases = {"submit": Phase(), "approve": Phase(), "trivial": Phase()}
        mine: list[list] = [[] for _ in range(clients)]
        until = time.perf_counter() + seconds / 4
        await timed(
            pid,
            phases["submit"],
            *(submitter(client, auth, until, phases["submit"], mine[k]) for k in range(clients)),
        )
        await timed(
            pid,
            phases["approve"],
            *(approver(client, auth, mine[k], phases["approve"]) for k in range(clients)),
        )
        until = time.perf_counter() + seconds
        await timed(
            pid,
            phases["trivial"],
            *(trivial(client, until, phases["trivial"]) for _ in range(clients)),
        )
    return phases


def run_server(
    url: str, clients: list[int], seconds: float, worker: bool = True
) -> list[tuple[int, dict[str, Phase]]]:
    prepare(url)
    port = free_port()
    server = serve(url, port, worker)
    try:
        return [
            (n, asyncio.run(level(f"http://127.0.0.1:{port}", server.pid, n, seconds)))
            for n in clients
        ]
    finally:
        server.terminate()
        server.wait(10)


def report(result: Result, kind: str, rows: list[tuple[int, dict[str, Phase]]]) -> None:
    table = result.table(
        f"HTTP on {kind}, one uvicorn process: approvals next to GET /healthz",
        [
            "clients",
            "leaves/s",
            "approvals/s",
            "approve p50 / p99 ms",
            "trivial/s",
            "trivial p50 / p99 ms",
            "p50 approve/trivial",
            "server CPU ms: approve / trivial",
            "CPU approve/trivial",
        ],
        "leaves/s: complete leave requests (submit + 3 approvals) per second of the submit "
        "and approval phases; server CPU: the server process's CPU per request",
    )
    latency, cpu = {}, {}
    for n, phases in rows:
        sub, app, triv = phases["submit"], phases["approve"], phases["trivial"]
        leaves = len(sub.latencies) / (sub.seconds + app.seconds)
        latency[n] = app.p(0.5) / triv.p(0.5)
        cpu[n] = app.cpu_ms / triv.cpu_ms
        table.add(
            n,
            f"{leaves:,.1f}",
            f"{app.per_s:,.0f}",
            f"{app.p(0.5):.1f} / {app.p(0.99):.1f}",
            f"{triv.per_s:,.0f}",
            f"{triv.p(0.5):.1f} / {triv.p(0.99):.1f}",
            f"{latency[n]:.1f}x",
            f"{app.cpu_ms:.2f} / {triv.cpu_ms:.2f}",
            f"{cpu[n]:.1f}x",
        )
    result.goal(
        f"HTTP on {kind}: an approval costs <= 2x the trivial endpoint (server CPU per request)",
        ", ".join(f"{n} clients {v:.1f}x" for n, v in cpu.items())
        + "; p50 latency: "
        + ", ".join(f"{n} clients {v:.1f}x" for n, v in latency.items()),
        max(cpu.values()) <= 2,
    )
    result.data[kind] = {
        str(n): {name: vars(p) | {"latencies": len(p.latencies)} for name, p in phases.items()}
        for n, phases in rows
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per level and endpoint")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL too")
    parser.add_argument("--quick", action="store_true", help="1 s per level, SQLite")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="SIGNOFF_WORKER=false: no relay, sinks or timers in the server",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.pg = 1.0, False
    clients = [int(c) for c in args.clients.split(",")]
    name, title = "http", "HTTP: approvals against a trivial endpoint"
    if args.no_worker:
        name, title = "http-no-worker", title + ", the server's worker off"
    result = Result(name, title, command_line(), args.quick)
    result.notes.append(
        "the client (httpx, asyncio, one process) runs on the same 2 cores as the server, so "
        "latencies and rates include its cost; the server CPU per request does not"
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_server(
            f"sqlite:///{Path(tmp) / 'http.db'}", clients, args.seconds, not args.no_worker
        )
    report(result, "SQLite, worker off" if args.no_worker else "SQLite", rows)
    if args.pg and pg_available():
        with pg_database("_http") as url:
            rows = run_server(url, clients, args.seconds, not args.no_worker)
            report(result, "PostgreSQL, worker off" if args.no_worker else "PostgreSQL", rows)
    result.print()
    result.save()


if __name__ == "__main__":
    main()
