"""Approvals through the running HTTP server, next to a trivial endpoint of the same server.

Starts `signoff serve` (uvicorn, one process) on a fresh SQLite database (or the
PostgreSQL database in SIGNOFF_BENCH_PG_URL), with the demo company and templates,
signs everyone in with real passwords, then for each concurrency level (1, 8, 32
clients by default) runs, in the same run:

- complete leave requests: submit as the applicant, then each approval as the person
  whose turn it is (their own token), until approved;
- the trivial endpoint `GET /healthz` at the same concurrency.

It prints requests per second and p50/p99 latency for both, and the cost ratio
(time per approval action / time per trivial request). Goal: at most 2x.
Run: `.venv/bin/python -m bench.http [--seconds N] [--clients 1,8,32]`. A script, not a test.
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
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from signoff.service.auth import set_password
from signoff.service.clock import SystemClock
from signoff.service.directory_import import import_directory_file
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.schema import metadata
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


def prepare(url: str) -> None:
    db = Database(url)
    upgrade(db)
    if db.dialect == "postgresql":
        names = ", ".join(t.name for t in metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    import_directory_file(SqlUnitOfWork(db), ROOT / "examples" / "directory.json")
    with SqlUnitOfWork(db) as uow:
        definition = json.loads((ROOT / "examples/templates/leave.json").read_text())
        uow.templates.publish(definition, None, datetime.now(UTC))
        uow.commit()
    for person in PEOPLE:
        set_password(SqlUnitOfWork(db), SystemClock(), person, PASSWORD)
    db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGNOFF_DATABASE_URL": url,
        "SIGNOFF_SECRET_KEY": "bench-secret-key-" + "x" * 32,
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


async def tokens(client: httpx.AsyncClient) -> dict[str, str]:
    out = {}
    for person in PEOPLE:
        answer = await client.post(
            "/api/v1/auth/login", json={"principal_id": person, "password": PASSWORD}
        )
        answer.raise_for_status()
        out[person] = answer.json()["access_token"]
    return out


async def leave_worker(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    until: float,
    lat: list[float],
    counts: list[int],
) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        answer = await client.post("/api/v1/instances", json=LEAVE, headers=_h(auth["u-zhangsan"]))
        lat.append(time.perf_counter() - t0)
        answer.raise_for_status()
        pending = answer.json()["pending"]
        while pending:
            task = pending[0]
            t0 = time.perf_counter()
            answer = await client.post(
                f"/api/v1/tasks/{task['task_id']}/approve",
                json={"comment": "ok"},
                headers=_h(auth[task["assignee"]]),
            )
            lat.append(time.perf_counter() - t0)
            answer.raise_for_status()
            pending = answer.json()["pending"]
        counts[0] += 1


async def trivial_worker(client: httpx.AsyncClient, until: float, lat: list[float]) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        answer = await client.get("/healthz")
        lat.append(time.perf_counter() - t0)
        answer.raise_for_status()


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def level(base: str, clients: int, seconds: float) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        auth = await tokens(client)
        lat: list[float] = []
        done = [0]
        until = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(
            *(leave_worker(client, auth, until, lat, done) for _ in range(clients))
        )
        action_s = time.perf_counter() - t0
        trivial: list[float] = []
        until = time.perf_counter() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(trivial_worker(client, until, trivial) for _ in range(clients)))
        trivial_s = time.perf_counter() - t0
    return {
        "requests_per_s": done[0] / action_s,
        "actions_per_s": len(lat) / action_s,
        "p50": _q(lat, 0.5),
        "p99": _q(lat, 0.99),
        "trivial_per_s": len(trivial) / trivial_s,
        "trivial_p50": _q(trivial, 0.5),
        "trivial_p99": _q(trivial, 0.99),
        "ratio": (len(trivial) / trivial_s) / (len(lat) / action_s),
    }


def _q(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and endpoint")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("SIGNOFF_BENCH_PG_URL") or f"sqlite:///{Path(tmp) / 'http.db'}"
        prepare(url)
        port = free_port()
        server = serve(url, port)
        try:
            rows = [
                (n, asyncio.run(level(f"http://127.0.0.1:{port}", n, args.seconds)))
                for n in (int(c) for c in args.clients.split(","))
            ]
        finally:
            server.terminate()
            server.wait(10)
    print(f"HTTP on {url.split(':')[0]}, one uvicorn process; leave = submit + 3 approvals")
    print(
        f"{'clients':>8}{'leaves/s':>10}{'actions/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'trivial/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'action/trivial':>16}"
    )
    for n, r in rows:
        print(
            f"{n:>8}{r['requests_per_s']:>10.1f}{r['actions_per_s']:>11.1f}{r['p50']:>9.1f}"
            f"{r['p99']:>9.1f}{r['trivial_per_s']:>11.1f}{r['trivial_p50']:>9.1f}"
            f"{r['trivial_p99']:>9.1f}{r['ratio']:>15.1f}x"
        )
    print(f"(median ratio {statistics.median(r['ratio'] for _, r in rows):.1f}x; goal 2x)")


if __name__ == "__main__":
    main()
