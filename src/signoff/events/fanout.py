"""Telling every server node that new positions were relayed.

The signal carries only a position; each node then reads the notices from the database
(`Hub.pull`), so a lost signal costs latency, never a message — and a periodic pull
catches up regardless. Three ways, one interface:

- `LocalSignal`: one process (SQLite, tests): call the listener directly.
- `RedisSignal`: Redis pub/sub on channel `signoff:relayed` (`SIGNOFF_REDIS_URL`).
- `PostgresSignal`: PostgreSQL `LISTEN signoff_relayed` / `NOTIFY` (the default on
  PostgreSQL without Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("signoff.events.fanout")

CHANNEL = "signoff_relayed"
Listener = Callable[[int], Awaitable[None]]


class Signal(Protocol):
    async def start(self, listener: Listener) -> None: ...

    async def publish(self, position: int) -> None: ...

    async def stop(self) -> None: ...


class LocalSignal:
    def __init__(self) -> None:
        self._listener: Listener | None = None

    async def start(self, listener: Listener) -> None:
        self._listener = listener

    async def publish(self, position: int) -> None:
        if self._listener is not None:
            await self._listener(position)

    async def stop(self) -> None:
        self._listener = None


class RedisSignal:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis  # only when configured

        self._redis = redis.from_url(url)
        self._task: asyncio.Task[None] | None = None

    async def start(self, listener: Listener) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)

        async def listen() -> None:
            while True:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
                    if message is not None:
                        await listener(int(message["data"]))
                except asyncio.CancelledError:
                    raise
                except Exception:  # a broken connection: log, wait, go on (pulls catch up)
                    log.exception("redis fan-out listener failed; retrying")
                    await asyncio.sleep(1)

        self._task = asyncio.create_task(listen(), name="signoff-redis-signal")

    async def publish(self, position: int) -> None:
        try:
            await self._redis.publish(CHANNEL, str(position))
        except Exception:  # the periodic pull on every node still delivers it
            log.exception("redis fan-out publish failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()


class PostgresSignal:
    def __init__(self, url: str) -> None:
        self._url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._task: asyncio.Task[None] | None = None
        self._publisher: object | None = None

    async def start(self, listener: Listener) -> None:
        import psycopg

        async def listen() -> None:
            while True:
                try:
                    async with await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True
                    ) as conn:
                        await conn.execute(f"LISTEN {CHANNEL}")
                        async for note in conn.notifies():
                            await listener(int(note.payload or 0))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("postgres fan-out listener failed; reconnecting")
                    await asyncio.sleep(1)

        self._task = asyncio.create_task(listen(), name="signoff-pg-signal")

    async def publish(self, position: int) -> None:
        import psycopg

        try:
            async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(position)))
        except Exception:
            log.exception("postgres fan-out publish failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def signal_for(database_url: str, redis_url: str) -> Signal:
    if redis_url:
        return RedisSignal(redis_url)
    if database_url.startswith("postgresql"):
        return PostgresSignal(database_url)
    return LocalSignal()
