"""The dispatcher: relays the outbox, delivers to every sink, fires timers.

It runs inside `signoff serve` (unless `SIGNOFF_WORKER=false`) and in any number of
`signoff worker` processes; on PostgreSQL they share the work safely (one relay at a
time, deliveries leased with `FOR UPDATE SKIP LOCKED`, timers decided under the
instance's row lock). Each loop is one small step repeated: the steps are public so
that tests drive them one at a time.

    command commits --wake--> relay: positions, feeds, deliveries --signal--> every
    node's hub pulls and pushes to its sockets; webhook / NATS / mail loops deliver
    their due rows; the timer loop fires due timeouts through the service layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import smtplib
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from signoff.domain.commands import FireTimeout
from signoff.domain.errors import SignoffError, TimerNotDue
from signoff.events import mail, webhooks
from signoff.events.envelope import cloud_event, encode
from signoff.events.fanout import LocalSignal, Signal
from signoff.events.hub import Hub
from signoff.events.nats import NatsPublisher
from signoff.service.commands import act
from signoff.service.ports import Clock
from signoff.settings import Settings
from signoff.store import outbox as box
from signoff.store.database import Database
from signoff.store.retention import prune_events
from signoff.store.schema import principals, tasks, webhook_endpoints
from signoff.store.uow import SqlUnitOfWork

log = logging.getLogger("signoff.events")

ONLINE = timedelta(seconds=45)  # a presence row fresher than this means "connected"


def _in_thread(step: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    return lambda: asyncio.to_thread(step)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        hub: Hub | None = None,
        signal: Signal | None = None,
        steps: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.hub = hub
        self.signal = signal or LocalSignal()
        # more sync work to repeat every second in a thread (documents of approved requests:
        # the layers above pass them in, the events package knows nothing of them)
        self.steps = tuple(steps)
        self.node = settings.node_id or f"{socket.gethostname()}:{os.getpid()}"
        self.routing = box.Routing(
            nats=bool(settings.nats_url),
            mail=bool(settings.smtp_host),
            mail_batch=timedelta(seconds=settings.mail_batch_seconds),
        )
        self.smtp = mail.SmtpConfig(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_starttls,
            settings.mail_from,
            settings.public_url,
        )
        self.nats = (
            NatsPublisher(settings.nats_url, settings.nats_stream) if settings.nats_url else None
        )
        self._http: httpx.AsyncClient | None = None  # made in the event loop that uses it
        self.retry_base = timedelta(seconds=settings.retry_base_seconds)
        self.retry_window = timedelta(hours=settings.retry_window_hours)
        # longer than any single delivery attempt may take
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self._wake = asyncio.Event()
        self._deliver = {"webhook": asyncio.Event(), "nats": asyncio.Event()}
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds)
        return self._http

    # ---- relay ---------------------------------------------------------------------------

    def relay_once(self) -> box.Relayed:
        """Relay one batch of committed notices (sync: call it in a thread)."""
        with self.db.writer() as conn:
            return box.relay(conn, self.clock.now(), self.routing)

    async def relay(self) -> int:
        """Relay everything there is, then tell every node's hub. Returns the count."""
        total = 0
        while True:
            done = await asyncio.to_thread(self.relay_once)
            if not done:
                break
            count = done.last - done.first + 1
            total += count
            await self.signal.publish(done.last)
            for event in self._deliver.values():
                event.set()
            if count < box.RELAY_BATCH:
                break  # that was all: no second write transaction to find nothing
        return total

    # ---- sinks ----------------------------------------------------------------------------

    def _retry_at(self, item: box.Delivery) -> Any:
        now = self.clock.now()
        at = now + webhooks.backoff(item.attempts, self.retry_base)
        return None if at > item.created_at + self.retry_window else at

    def _finish(self, results: list[tuple[box.Delivery, str | None]]) -> None:
        now = self.clock.now()
        with self.db.writer() as conn:
            box.delivered(conn, [item.id for item, error in results if error is None], now)
            for item, error in results:
                if error is not None:
                    retry = self._retry_at(item)
                    box.failed(conn, item, now, error, retry)
                    if retry is None:
                        log.warning(
                            "delivery %s of %s dead-lettered: %s", item.id, item.event_id, error
                        )

    def _idle(self, sink: str) -> bool:
        with self.db.reader() as conn:
            return not box.has_due(conn, sink, self.clock.now())

    def _claim_webhooks(self) -> list[tuple[box.Delivery, Any, Any]]:
        if self._idle("webhook"):
            return []
        with self.db.writer() as conn:
            items = box.claim(conn, "webhook", self.clock.now(), self.lease)
            if not items:
                return []
            rows = box.notices(conn, {i.event_id for i in items})
            endpoints = {
                e.id: e
                for e in conn.execute(
                    select(webhook_endpoints).where(
                        webhook_endpoints.c.id.in_({i.target for i in items})
                    )
                )
            }
        return [(i, rows[i.event_id], endpoints.get(i.target)) for i in items]

    async def deliver_webhooks(self) -> int:
        claimed = await asyncio.to_thread(self._claim_webhooks)
        if not claimed:
            return 0
        now = self.clock.now()

        async def one(
            item: box.Delivery, row: Any, endpoint: Any
        ) -> tuple[box.Delivery, str | None]:
            if endpoint is None or endpoint.disabled_at is not None:
                return item, None  # the endpoint is gone: nothing to deliver to
            body = encode(cloud_event(row, self.settings.event_source))
            keys = webhooks.active_secrets(endpoint.secrets, now)
            hdrs = webhooks.headers(keys, row.event_id, int(now.timestamp()), body)
            return item, await webhooks.post(self.http(), endpoint.url, hdrs, body)

        results = await asyncio.gather(*(one(*c) for c in claimed))
        await asyncio.to_thread(self._finish, list(results))
        return len(results)

    def _claim_nats(self) -> list[tuple[box.Delivery, Any]]:
        if self._idle("nats"):
            return []
        with self.db.writer() as conn:
            items = box.claim(conn, "nats", self.clock.now(), self.lease, limit=200)
            rows = box.notices(conn, {i.event_id for i in items}) if items else {}
        return [(i, rows[i.event_id]) for i in items]

    async def deliver_nats(self) -> int:
        if self.nats is None:
            return 0
        claimed = await asyncio.to_thread(self._claim_nats)
        results: list[tuple[box.Delivery, str | None]] = []
        error: str | None = None
        for item, row in claimed:  # in order: one instance's events stay in order
            if error is None:  # once NATS fails, the rest of the batch waits for a retry
                body = encode(cloud_event(row, self.settings.event_source))
                # one stream de-duplicates across subjects: an app's copy needs its own id
                msg_id = row.event_id if item.target == "_" else f"{row.event_id}@{item.target}"
                error = await self.nats.publish(item.target, row.type, msg_id, body)
            results.append((item, error))
        if results:
            await asyncio.to_thread(self._finish, results)
        return len(results)

    def deliver_mail_once(self) -> int:
        """Send the digests that are due (sync). Returns the number of mails sent."""
        if not self.routing.mail:
            return 0
        now = self.clock.now()
        if self._idle("mail"):
            return 0
        with self.db.writer() as conn:
            due = box.claim_mail(conn, now, self.lease)
            if not due:
                return 0
            here = box.online(conn, due, now - ONLINE)
            people = {
                p.id: p
                for p in conn.execute(select(principals).where(principals.c.id.in_(list(due))))
            }
            rows = box.notices(conn, {i.event_id for items in due.values() for i in items})
        results: list[tuple[box.Delivery, str | None]] = []
        sent = 0
        for person_id, items in due.items():
            person = people.get(person_id)
            if person_id in here or person is None or not person.email:
                results += [(i, None) for i in items]  # seen in the app (or no address)
                continue
            try:  # one person's bad digest fails only their deliveries
                notices = [rows[i.event_id] for i in items]
                mail.send(mail.digest(person.name, person.email, notices, self.smtp), self.smtp)
            except (OSError, ValueError, smtplib.SMTPException) as error:
                results += [(i, f"{type(error).__name__}: {error}") for i in items]
                continue
            sent += 1
            results += [(i, None) for i in items]
        self._finish(results)
        return sent

    # ---- timers ---------------------------------------------------------------------------

    def fire_timers_once(self, limit: int = 100) -> int:
        """Fire the timeouts that are due (sync). Safe on many workers: the domain fires a
        timer only while it is due, under the instance's row lock."""
        now = self.clock.now()
        with self.db.reader() as conn:
            due = conn.execute(
                select(tasks.c.instance_id, tasks.c.id)
                .where(tasks.c.status == "pending", tasks.c.due_at <= now)
                .order_by(tasks.c.due_at)
                .limit(limit)
            ).all()
        fired = 0
        for instance_id, task_id in due:
            try:
                act(SqlUnitOfWork(self.db), self.clock, instance_id, FireTimeout(task_id=task_id))
                fired += 1
            except TimerNotDue:
                continue  # another worker fired it, or someone acted meanwhile
            except SignoffError as error:
                log.warning("timeout of task %s not fired: %s", task_id, error)
        return fired

    # ---- retention ------------------------------------------------------------------------

    def prune_once(self, limit: int = 1000) -> int:
        """Forget delivered notices older than the retention (sync; store/retention.py)."""
        days = self.settings.event_retention_days
        if not days:
            return 0
        with self.db.writer() as conn:
            return prune_events(conn, self.clock.now() - timedelta(days=days), limit)

    # ---- presence -------------------------------------------------------------------------

    def write_presence(self) -> None:
        if self.hub is None:
            return
        with self.db.writer() as conn:
            box.set_presence(conn, self.node, self.hub.people(), self.clock.now())

    # ---- running --------------------------------------------------------------------------

    def wake(self) -> None:
        """Thread-safe: a command committed (Database.commit_listeners)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self, work: bool = True) -> None:
        """Start the hub's fan-out (when this node has a hub) and, with `work`, the relay,
        the sinks and the timers."""
        self._loop = asyncio.get_running_loop()
        if self.hub is not None:
            await self.hub.start()
            hub = self.hub

            async def pulled(position: int) -> None:
                await hub.pull()

            await self.signal.start(pulled)
            self._spawn("hub", self._every(2.0, hub.pull))
            self._spawn(
                "presence", self._every(10.0, lambda: asyncio.to_thread(self.write_presence))
            )
        if not work:
            return
        self.db.commit_listeners.append(self.wake)
        self._spawn("relay", self._relay_loop())
        self._spawn("webhooks", self._sink_loop(self.deliver_webhooks, self._deliver["webhook"]))
        if self.nats is not None:
            self._spawn("nats", self._sink_loop(self.deliver_nats, self._deliver["nats"]))
        if self.routing.mail:
            self._spawn("mail", self._every(1.0, lambda: asyncio.to_thread(self.deliver_mail_once)))
        self._spawn("timers", self._every(1.0, lambda: asyncio.to_thread(self.fire_timers_once)))
        self._spawn("retention", self._every(60.0, lambda: asyncio.to_thread(self.prune_once)))
        for number, step in enumerate(self.steps):
            self._spawn(f"step-{number}", self._every(1.0, _in_thread(step)))

    def _spawn(self, name: str, work: Awaitable[None]) -> None:
        self._tasks.append(asyncio.create_task(work, name=f"signoff-{name}"))  # type: ignore[arg-type]  # a coroutine

    async def _relay_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            self._wake.clear()
            try:
                await self.relay()
            except Exception:  # the database is away: try again on the next tick
                log.exception("relay failed")
                await asyncio.sleep(1)

    async def _sink_loop(self, step: Callable[[], Awaitable[int]], woken: asyncio.Event) -> None:
        while True:
            try:
                if await step():
                    continue  # there may be more
            except Exception:
                log.exception("delivery step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=1.0)
            woken.clear()

    async def _every(self, seconds: float, step: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await step()
            except Exception:
                log.exception("periodic step failed")
            await asyncio.sleep(seconds)

    async def stop(self) -> None:
        if self.wake in self.db.commit_listeners:
            self.db.commit_listeners.remove(self.wake)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.signal.stop()
        if self.nats is not None:
            await self.nats.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self.hub is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._clear_presence)

    def _clear_presence(self) -> None:
        with self.db.writer() as conn:
            box.set_presence(conn, self.node, (), self.clock.now())
