"""The WebSocket hub of one server node: who is connected, and pushing them what they hear.

Every node pushes from the database, never from a message another node sent: when a
relay publishes positions up to N (signalled through `signoff.events.fanout`), each
node reads the relayed notices after the last position it pushed and sends each one
to the connected members of its audience. A client that reconnects says the last
position it saw and gets what it missed from its feed (`feeds` rows), then live
messages. So a lost signal delays a message until the next one, and never loses it.

A pushed message (docs/events.md):

    {"type": "task.assigned", "event": "task.assigned", "position": 42,
     "event_id": "01J...:7", "instance_id": "01J...", "template": "leave",
     "title": "...", "status": "pending", "next_approvers": [{"id": ..., "name": ...}],
     "time": "...", "data": {...}, "counts": {"pending": 3, "done": 9, "cc": 1, "mine": 2}}

`type` is one of task.assigned, instance.urged, cc.received, or instance.updated for
every other notice (`event` keeps the notice type).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from signoff.events.envelope import iso
from signoff.store.database import Database
from signoff.store.directory import SqlDirectory, shared_cache
from signoff.store.outbox import feed_after, last_position, relayed_after
from signoff.store.queries import SqlQueries

log = logging.getLogger("signoff.events.hub")

Send = Callable[[dict[str, Any]], Awaitable[None]]
PUSHED_AS = {"task.assigned", "instance.urged", "cc.received"}


class Connection:
    """One open socket of one person. Messages go through a bounded queue so that a slow
    client never holds up the others; one that falls too far behind is dropped (it will
    reconnect and resume from its last position)."""

    def __init__(self, principal_id: str, send: Send, limit: int = 1000) -> None:
        self.principal_id = principal_id
        self._send = send
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(limit)
        self.overflowed = False

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def pump(self) -> None:
        """Send queued messages until closed (run as the socket's writer task)."""
        while (message := await self.queue.get()) is not None:
            await self._send(message)


class Hub:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.connections: dict[str, set[Connection]] = {}
        self.position = 0  # the last position this node pushed
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.position = await asyncio.to_thread(self._last_position)

    def _last_position(self) -> int:
        with self.db.reader() as conn:
            return last_position(conn)

    def people(self) -> set[str]:
        return {p for p, conns in self.connections.items() if conns}

    def count(self) -> int:
        return sum(len(c) for c in self.connections.values())

    async def attach(self, conn: Connection, after: int | None) -> int:
        """Register a socket; queue what it missed after `after`. Returns the position the
        client is at once its backlog is sent."""
        async with self._lock:  # no push runs while we read the backlog and register
            self.connections.setdefault(conn.principal_id, set()).add(conn)
            if after is not None and after < self.position:
                rows = await asyncio.to_thread(self._backlog, conn.principal_id, after)
                for message in await asyncio.to_thread(self._messages, rows, [conn.principal_id]):
                    conn.offer(message[1])
            return self.position

    def detach(self, conn: Connection) -> None:
        conns = self.connections.get(conn.principal_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.connections[conn.principal_id]

    def _backlog(self, principal_id: str, after: int) -> list[Any]:
        with self.db.reader() as conn:
            return [r for r in feed_after(conn, principal_id, after) if r.position <= self.position]

    async def pull(self) -> int:
        """Push every relayed notice after our position to the connected people."""
        async with self._lock:
            while True:
                rows = await asyncio.to_thread(self._relayed, self.position)
                if not rows:
                    return self.position
                if self.connections:
                    wanted = self.people()
                    relevant = [r for r in rows if wanted.intersection(r.audience)]
                    if relevant:
                        for person, message in await asyncio.to_thread(
                            self._messages, relevant, wanted
                        ):
                            for conn in list(self.connections.get(person, ())):
                                conn.offer(message)
                self.position = rows[-1].position

    def _relayed(self, position: int) -> list[Any]:
        with self.db.reader() as conn:
            return relayed_after(conn, position)

    def _messages(
        self, rows: Iterable[Any], people: Iterable[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        wanted = set(people)
        out: list[tuple[str, dict[str, Any]]] = []
        with self.db.reader() as conn:
            directory = SqlDirectory(conn, shared_cache(self.db.url))
            queries = SqlQueries(conn)
            counts: dict[str, dict[str, int]] = {}
            for row in rows:
                data = row.data
                approvers = []
                for pid in data.get("next_approvers", ()):
                    person = directory.principal(pid)
                    approvers.append({"id": pid, "name": person.name if person else pid})
                base = {
                    "type": row.type if row.type in PUSHED_AS else "instance.updated",
                    "event": row.type,
                    "position": row.position,
                    "event_id": row.event_id,
                    "instance_id": row.instance_id,
                    "template": row.template_key,
                    "title": data.get("title", ""),
                    "status": data.get("status"),
                    "next_approvers": approvers,
                    "actor": row.actor,
                    "time": iso(row.at),
                    "data": data,
                }
                for person in row.audience:
                    if person in wanted:
                        if person not in counts:
                            counts[person] = queries.counts(person)
                        out.append((person, {**base, "counts": counts[person]}))
        return out
