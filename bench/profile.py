"""Where an approval's time goes: cProfile of the engine, the service layer and the API.

Three profiles, each of approvals only (the instances are started unprofiled):

- **engine**: the `sequential` process in memory (`bench/processes.py`);
- **service**: `act(Approve)` on SQLite with `synchronous=OFF` (so what is left is CPU:
  the fsync is measured by `bench/persisted.py`), the `sequential` process;
- **HTTP**: `POST /api/v1/tasks/{id}/approve` on leave requests, through the real app
  in this process (httpx's ASGI transport; FastAPI's thread pool replaced by a direct
  call so the profiler sees the route; the outbox relay is not running and is profiled
  on its own as **relay**: relaying the notices those approvals wrote).

Self time is grouped by where the code lives (the engine, the state JSON, the audit
chain, SQLAlchemy, the driver, FastAPI and pydantic, ...) and shown per approval,
with the heaviest functions. Run: `.venv/bin/python -m bench.profile [--quick]`.
"""

from __future__ import annotations

import os

os.environ["SIGNOFF_SQLITE_SYNCHRONOUS"] = "OFF"  # before signoff.store reads it

import argparse
import asyncio
import cProfile
import pstats
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx

from bench.persisted import T0, prepare
from bench.processes import SEQUENTIAL, SignoffPlayer
from bench.results import Result, command_line
from bench.store import approve_all
from signoff.service.clock import ManualClock
from signoff.store.database import Database

AREAS: tuple[tuple[str, str], ...] = (
    ("signoff/domain/snapshot.py", "state JSON (domain/snapshot.py)"),
    ("signoff/domain/events.py", "events to dicts (domain/events.py)"),
    ("signoff/domain/", "engine (domain)"),
    ("signoff/store/audit.py", "audit rows and hash chain (store/audit.py)"),
    ("signoff/store/outbox.py", "relay (store/outbox.py)"),
    ("signoff/store/", "store: unit of work, rows <-> domain"),
    ("signoff/service/", "service layer"),
    ("signoff/api/", "API routes, models, errors"),
    ("signoff/", "other Signoff code"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("sqlite3", "SQLite (driver + engine)"),
    ("psycopg", "psycopg"),
    ("json", "json (stdlib)"),
    ("pydantic", "pydantic"),
    ("fastapi/", "FastAPI"),
    ("starlette/", "Starlette"),
    ("jwt/", "JWT"),
    ("cryptography", "JWT"),
    ("httpx/", "the client: httpx + ASGI transport (not server work)"),
    ("anyio/", "anyio / asyncio"),
    ("asyncio/", "anyio / asyncio"),
    ("prometheus_client", "metrics"),
)


def area(filename: str, function: str) -> str:
    where = filename if filename != "~" else function
    if "hashlib" in where or "openssl_sha" in where:
        return "audit rows and hash chain (store/audit.py)"
    for marker, name in AREAS:
        if marker in where:
            return name
    return "other (stdlib, builtins)"


def profile(run: Callable[[], int]) -> tuple[pstats.Stats, int]:
    profiler = cProfile.Profile()
    profiler.enable()
    approvals = run()
    profiler.disable()
    return pstats.Stats(profiler), approvals


def summarise(result: Result, name: str, stats: pstats.Stats, approvals: int) -> float:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = {}
    functions = []
    total = 0.0
    for (filename, line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        by_area[area(filename, function)] = by_area.get(area(filename, function), 0) + tottime
        functions.append((tottime, f"{_short(filename)}:{line}({function})"))
        total += tottime
    per = 1e6 / approvals
    table = result.table(
        f"{name}: self time per approval by area ({approvals} approvals, "
        f"{total * per:,.0f} µs each under the profiler)",
        ["area", "µs per approval", "share"],
    )
    for label, seconds in sorted(by_area.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.01:
            table.add(label, f"{seconds * per:,.0f}", f"{seconds / total:.0%}")
    top = result.table(f"{name}: heaviest functions (self time)", ["function", "µs per approval"])
    for seconds, label in sorted(functions, reverse=True)[:10]:
        top.add(label, f"{seconds * per:,.1f}")
    return total * per


def _short(filename: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# ---- the scenarios ---------------------------------------------------------------------


def engine(count: int) -> tuple[pstats.Stats, int]:
    players = [SignoffPlayer(SEQUENTIAL, f"i-{k}") for k in range(count)]
    pending = [p.start() for p in players]

    def run() -> int:
        n = 0
        for player, waiting in zip(players, pending, strict=True):
            while waiting:
                waiting = player.approve(*waiting[0])
                n += 1
        return n

    return profile(run)


def service(tmp: Path, count: int) -> tuple[pstats.Stats, int]:
    url = f"sqlite:///{tmp / 'service.db'}"
    ids = prepare(url, {"sequential": count + 20})["sequential"]
    db = Database(url)
    approve_all(db, ManualClock(T0), ids[:20])  # warm: statement cache, directory cache
    stats = profile(lambda: approve_all(db, ManualClock(T0), ids[20:])[2])
    db.dispose()
    return stats


async def _inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def http(tmp: Path, count: int) -> tuple[tuple[pstats.Stats, int], tuple[pstats.Stats, int]]:
    from bench.http import LEAVE, PASSWORD, PEOPLE  # after its sys.path fix-up
    from bench.http import prepare as prepare_http
    from signoff.api.app import create_app
    from signoff.settings import load_settings
    from signoff.store.outbox import Routing, relay

    url = f"sqlite:///{tmp / 'http.db'}"
    prepare_http(url)
    fastapi.routing.run_in_threadpool = _inline  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = _inline  # type: ignore[assignment]
    settings = load_settings(
        database_url=url,
        secret_key="bench-secret-key-" + "x" * 32,
        worker=False,
        log_level="warning",
    )
    app = create_app(settings)

    async def play() -> tuple[pstats.Stats, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            auth = {}
            for person in PEOPLE:
                answer = await client.post(
                    "/api/v1/auth/login", json={"principal_id": person, "password": PASSWORD}
                )
                auth[person] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            pending = []
            for _ in range(count):
                answer = await client.post("/api/v1/instances", json=LEAVE, headers=auth[PEOPLE[0]])
                pending.append(answer.json()["pending"])
            profiler = cProfile.Profile()
            approvals = 0
            for waiting in pending:
                while waiting:
                    task = waiting[0]
                    profiler.enable()
                    answer = await client.post(
                        f"/api/v1/tasks/{task['task_id']}/approve",
                        json={"comment": "ok"},
                        headers=auth[task["assignee"]],
                    )
                    profiler.disable()
                    answer.raise_for_status()
                    waiting = answer.json()["pending"]
                    approvals += 1
            return pstats.Stats(profiler), approvals

    approvals = asyncio.run(play())
    db = app.state.services.db

    def relay_all() -> int:
        while True:
            with db.writer() as conn:
                if not relay(conn, datetime.now(UTC), Routing(), limit=500):
                    return approvals[1]

    relayed = profile(relay_all)
    db.dispose()
    return approvals, relayed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer approvals")
    args = parser.parse_args()
    scale = 1 if args.quick else 4
    result = Result(
        "profile", "Profiles: where an approval's time goes", command_line(), args.quick
    )
    result.notes.append(
        "cProfile adds its own cost to every call (most to small, frequent ones), so the "
        "shares matter more than the absolute µs"
    )
    totals = {"engine": summarise(result, "engine (in memory)", *engine(500 * scale))}
    with tempfile.TemporaryDirectory() as tmp:
        totals["service"] = summarise(
            result, "service on SQLite (synchronous=OFF)", *service(Path(tmp), 50 * scale)
        )
        request, relayed = http(Path(tmp), 25 * scale)
        totals["http"] = summarise(result, "HTTP approve on SQLite (synchronous=OFF)", *request)
        totals["relay"] = summarise(result, "relay of those approvals' notices", *relayed)
    result.data["totals_us"] = totals
    result.print()
    result.save()


if __name__ == "__main__":
    main()
