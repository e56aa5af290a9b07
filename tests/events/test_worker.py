"""`signoff worker` processes: one killed with SIGKILL in the middle of delivering, another
takes over once its lease runs out — every notice arrives, in order per instance, and a
repeat carries the same webhook id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from signoff.service.auth import create_app
from signoff.service.clock import ManualClock
from signoff.store.database import Database
from signoff.store.schema import deliveries, outbox
from signoff.store.uow import SqlUnitOfWork
from signoff.store.webhooks import Endpoint
from tests.events.conftest import Receiver, approve_next, submit_leave

SIGNOFF = str(Path(sys.executable).with_name("signoff"))


def start_worker(db: Database) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGNOFF_DATABASE_URL": db.url,
        "SIGNOFF_RETRY_BASE_SECONDS": "0.2",
        "SIGNOFF_DELIVERY_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(  # noqa: S603  # our own CLI
        [SIGNOFF, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def pending(db: Database) -> int:
    with db.reader() as conn:
        query = sa.select(sa.func.count()).select_from(deliveries)
        return int(conn.execute(query.where(deliveries.c.status != "delivered")).scalar_one())


def wait(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing_and_order_per_instance_holds(
    seeded: Database, clock: ManualClock, receiver: Receiver
) -> None:
    app, _ = create_app(SqlUnitOfWork(seeded), clock, "hr", ("leave",))
    receiver.secret = "whsec_" + "c2VjcmV0LWZvci10aGUtd29ya2VyLXRlc3QtMDEyMzQ1Ng=="
    with SqlUnitOfWork(seeded) as uow:
        uow.webhooks.add(
            Endpoint(
                "ep1",
                app.id,
                receiver.url,
                ["*"],
                "",
                clock.now(),
                None,
                [{"secret": receiver.secret, "expires_at": None}],
            )
        )
        uow.commit()
    for _ in range(4):
        approve_next(seeded, clock, submit_leave(seeded, clock))
    receiver.delay = 0.3
    first = start_worker(seeded)
    try:
        wait(lambda: len(receiver.received) >= 3)
        first.send_signal(signal.SIGKILL)  # mid-delivery: some claimed, not yet recorded
        first.wait(10)
        assert pending(seeded) > 0
    finally:
        if first.poll() is None:
            first.kill()
    receiver.delay = 0.0
    second = start_worker(seeded)
    try:
        wait(lambda: pending(seeded) == 0)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    with seeded.reader() as conn:
        sent = list(conn.execute(sa.select(outbox).order_by(outbox.c.position)))
    ids = [e["id"] for e in receiver.received]
    assert set(ids) == {r.event_id for r in sent}  # everything arrived
    first_seen = list(dict.fromkeys(ids))
    for instance in {r.instance_id for r in sent}:
        mine = [r.event_id for r in sent if r.instance_id == instance]
        assert [i for i in first_seen if i in mine] == mine  # in order per instance
