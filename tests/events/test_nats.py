"""NATS JetStream: every notice is published once to `signoff.<app>.<type>` as a
CloudEvent whose id is the event id (the `Nats-Msg-Id`, with `@<app>` on an app's
subject), so a publish repeated after a lost acknowledgement is stored once; while NATS
is away deliveries wait and retry.

Needs a NATS server with JetStream (`SIGNOFF_TEST_NATS_URL`, default
nats://127.0.0.1:4222): skipped with the reason when there is none, a failure under CI.
Each test publishes into a stream of its own, deleted afterwards. JetStream refuses two
streams over the same subjects (every Signoff stream takes `signoff.>`), so the NATS
tests of all test processes on this machine take turns (a file lock)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nats
import pytest
from cloudevents.core.formats.json import JSONFormat
from nats.js.errors import NotFoundError

from signoff.events.dispatcher import Dispatcher
from signoff.events.envelope import cloud_event, encode
from signoff.events.nats import NatsPublisher
from signoff.service.auth import create_app
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome
from signoff.settings import Settings
from signoff.store import outbox as box
from signoff.store.database import Database
from signoff.store.schema import deliveries, outbox
from signoff.store.uow import SqlUnitOfWork
from tests.events.conftest import approve_next, rows, run_step, settings, submit_leave

NATS_ENV = "SIGNOFF_TEST_NATS_URL"


def nats_url() -> str:
    url = os.environ.get(NATS_ENV, "nats://127.0.0.1:4222")
    where = urlsplit(url)
    try:
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222), 1).close()
    except OSError as error:
        if os.environ.get("CI"):
            pytest.fail(f"no NATS at {url} ({error}): CI must run the NATS tests")
        pytest.skip(f"NATS tests need a NATS server with JetStream at {url} ({NATS_ENV}): {error}")
    return url


@pytest.fixture
def stream() -> Iterator[str]:
    """A fresh stream name; the stream (made by the dispatcher) is deleted afterwards."""
    url = nats_url()
    name = "T" + uuid.uuid4().hex[:16].upper()
    with (Path(tempfile.gettempdir()) / "signoff-nats-tests.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one stream over signoff.> at a time
        try:
            yield name
        finally:
            asyncio.run(_delete(url, name))
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _delete(url: str, name: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(name)
    except NotFoundError:
        pass
    finally:
        await nc.close()


def nats_settings(stream: str, **overrides: Any) -> Settings:
    return settings(nats_url=nats_url(), nats_stream=stream, **overrides)


def stored(stream: str) -> list[Any]:
    """Every message in the stream, in stream order."""

    async def read() -> list[Any]:
        nc = await nats.connect(nats_url())
        try:
            js = nc.jetstream()
            try:
                state = (await js.stream_info(stream)).state
            except NotFoundError:
                return []
            if not state.messages:
                return []
            return [await js.get_msg(stream, seq) for seq in range(1, state.last_seq + 1)]
        finally:
            await nc.close()

    return asyncio.run(read())


def publish(dispatcher: Dispatcher) -> int:
    return run_step(dispatcher, dispatcher.deliver_nats)


def publish_all(dispatcher: Dispatcher) -> int:
    """Publish until nothing is due (each step takes one notice per request)."""
    total = 0
    for _ in range(100):
        done = publish(dispatcher)
        if not done:
            return total
        total += done
    raise AssertionError("NATS deliveries never ran out")


def event_of(message: Any) -> str:
    """The event id in a message's Nats-Msg-Id (`<event id>@<app>` on an app's subject)."""
    msg_id: str = message.headers["Nats-Msg-Id"]
    app = message.subject.split(".")[1]
    assert msg_id == message.headers["Nats-Msg-Id"]
    if app != "_":
        assert msg_id.endswith(f"@{app}"), msg_id
    return msg_id.split("@")[0]


def approve_all(db: Database, clock: ManualClock, outcome: Outcome) -> Outcome:
    while outcome.status == "pending":
        outcome = approve_next(db, clock, outcome)
    return outcome


def notices(db: Database, instance_id: str | None = None) -> list[Any]:
    where = [outbox.c.instance_id == instance_id] if instance_id else []
    return sorted(rows(db, outbox, *where), key=lambda r: r.position)


def nats_deliveries(db: Database) -> list[Any]:
    return sorted(rows(db, deliveries, deliveries.c.sink == "nats"), key=lambda r: r.id)


def new_app(db: Database, clock: ManualClock, name: str, *templates: str) -> str:
    app, _key = create_app(SqlUnitOfWork(db), clock, name, templates)
    return app.id


def test_each_notice_is_published_once_to_its_apps_subject_as_a_cloudevent(
    seeded: Database, clock: ManualClock, stream: str
) -> None:
    app_id = new_app(seeded, clock, "HR system", "leave")
    dispatcher = Dispatcher(seeded, clock, nats_settings(stream))
    done = approve_all(seeded, clock, submit_leave(seeded, clock))
    dispatcher.relay_once()
    publish_all(dispatcher)
    expected = notices(seeded, done.instance_id)
    messages = stored(stream)
    assert [m.subject for m in messages] == [f"signoff.{app_id}.{n.type}" for n in expected]
    assert [event_of(m) for m in messages] == [n.event_id for n in expected]
    for message, notice in zip(messages, expected, strict=True):
        event = JSONFormat().read(None, message.data)  # the CloudEvents SDK reads it
        assert event.get_specversion() == "1.0"
        assert event.get_id() == notice.event_id
        assert event.get_type() == f"signoff.{notice.type}"
        assert event.get_subject() == done.instance_id
        assert event.get_source() == "urn:signoff"
        data = event.get_data()
        assert isinstance(data, dict) and data["instance_id"] == done.instance_id
    assert {d.status for d in nats_deliveries(seeded)} == {"delivered"}
    assert publish_all(dispatcher) == 0
    assert len(stored(stream)) == len(expected)


def test_a_request_no_app_owns_is_published_under_the_underscore_app(
    seeded: Database, clock: ManualClock, stream: str
) -> None:
    dispatcher = Dispatcher(seeded, clock, nats_settings(stream))
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    publish_all(dispatcher)
    expected = notices(seeded, outcome.instance_id)
    assert [m.subject for m in stored(stream)] == [f"signoff._.{n.type}" for n in expected]


def test_each_app_owning_the_template_hears_every_notice_on_its_own_subject(
    seeded: Database, clock: ManualClock, stream: str
) -> None:
    hr = new_app(seeded, clock, "HR system", "leave")
    payroll = new_app(seeded, clock, "Payroll", "leave")
    dispatcher = Dispatcher(seeded, clock, nats_settings(stream))
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    publish_all(dispatcher)
    assert {d.status for d in nats_deliveries(seeded)} == {"delivered"}
    expected = notices(seeded, outcome.instance_id)
    messages = stored(stream)
    for app_id in (hr, payroll):  # each app subscribes to signoff.<its id>.>
        heard = [event_of(m) for m in messages if m.subject.startswith(f"signoff.{app_id}.")]
        # one stream de-duplicates across subjects: each app's copy carries its own
        # Nats-Msg-Id, so JetStream does not take the second copy for a duplicate
        assert heard == [n.event_id for n in expected], f"app {app_id} heard {heard}"


def test_a_publish_repeated_after_a_lost_acknowledgement_is_stored_once(
    seeded: Database, clock: ManualClock, stream: str
) -> None:
    new_app(seeded, clock, "HR system", "leave")
    dispatcher = Dispatcher(seeded, clock, nats_settings(stream))
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    # a worker claims the first notice and publishes it, then dies before recording that
    with seeded.writer() as conn:
        (held,) = box.claim(conn, "nats", clock.now(), dispatcher.lease)
        row = box.notices(conn, [held.event_id])[held.event_id]
    body = encode(cloud_event(row, "urn:signoff"))

    async def dying_worker() -> str | None:
        publisher = NatsPublisher(nats_url(), stream)
        try:
            msg_id = f"{held.event_id}@{held.target}"  # as the dispatcher names it
            return await publisher.publish(held.target, row.type, msg_id, body)
        finally:
            await publisher.close()

    assert asyncio.run(dying_worker()) is None  # stored; its acknowledgement is lost
    assert [event_of(m) for m in stored(stream)] == [held.event_id]
    assert publish(dispatcher) == 0  # leased: it and the notices behind it wait
    clock.advance(seconds=dispatcher.lease.total_seconds())
    publish_all(dispatcher)  # the lease ran out: published again, dropped as a duplicate
    assert nats_deliveries(seeded)[0].attempts == 2
    assert {d.status for d in nats_deliveries(seeded)} == {"delivered"}
    expected = [n.event_id for n in notices(seeded, outcome.instance_id)]
    assert [event_of(m) for m in stored(stream)] == expected


def test_while_nats_is_away_deliveries_wait_with_the_error_and_go_out_once_it_is_back(
    seeded: Database, clock: ManualClock, stream: str
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        nowhere = f"nats://127.0.0.1:{s.getsockname()[1]}"
    away = Dispatcher(seeded, clock, settings(nats_url=nowhere, nats_stream=stream))
    first = submit_leave(seeded, clock)
    second = approve_next(seeded, clock, submit_leave(seeded, clock, applicant="u-wangwu"))
    away.relay_once()
    # the oldest notice of each request is tried, and the attempt gives up (it must not hang)
    assert run_step(away, away.deliver_nats, timeout=10) == 2
    tried = [d for d in nats_deliveries(seeded) if d.attempts]
    assert len(tried) == 2
    for d in tried:
        assert d.status == "pending" and d.last_error
        assert d.next_attempt_at == clock.now() + away.retry_base
    assert run_step(away, away.deliver_nats, timeout=10) == 0  # not due again yet
    assert stored(stream) == []
    back = Dispatcher(seeded, clock, nats_settings(stream))
    assert publish(back) == 0  # the retries are not due yet
    clock.advance(seconds=back.retry_base.total_seconds())
    publish_all(back)
    assert {d.status for d in nats_deliveries(seeded)} == {"delivered"}
    messages = stored(stream)
    for outcome in (first, second):
        ids = [event_of(m) for m in messages if event_of(m).startswith(outcome.instance_id)]
        assert ids == [n.event_id for n in notices(seeded, outcome.instance_id)]
    assert len(messages) == len(notices(seeded))
