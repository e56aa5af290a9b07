"""Retention: delivered notices older than `event_retention_days` are forgotten with their
feed rows and deliveries; anything still owed to someone (a pending or dead delivery, an
approval the document step has not read) is kept; the audit trail keeps everything."""

from __future__ import annotations

import sqlalchemy as sa

from signoff.documents.generator import generate_documents_once
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.store.database import Database
from signoff.store.schema import audit, deliveries, feeds, outbox
from tests.events.conftest import approve_next, rows, settings, submit_leave

DAY = 24 * 3600


def retaining(db: Database, clock: ManualClock, days: float = 7) -> Dispatcher:
    return Dispatcher(db, clock, settings(event_retention_days=days))


def relayed_and_read(db: Database, clock: ManualClock, dispatcher: Dispatcher) -> None:
    """The relay gave positions; the document step read past them."""
    dispatcher.relay_once()
    generate_documents_once(db, clock)


def test_old_delivered_notices_go_with_their_feeds_and_deliveries_and_new_ones_stay(
    seeded: Database, clock: ManualClock
) -> None:
    dispatcher = retaining(seeded, clock)
    old = approve_next(seeded, clock, submit_leave(seeded, clock))
    relayed_and_read(seeded, clock, dispatcher)
    old_events = {r.event_id for r in rows(seeded, outbox)}
    with seeded.writer() as conn:  # a webhook delivered each of them
        conn.execute(
            sa.insert(deliveries),
            [
                {
                    "event_id": e,
                    "instance_id": old.instance_id,
                    "sink": "webhook",
                    "target": "ep-1",
                    "status": "delivered",
                    "attempts": 1,
                    "next_attempt_at": clock.now(),
                    "created_at": clock.now(),
                }
                for e in old_events
            ],
        )
    audit_rows = len(rows(seeded, audit))
    clock.advance(seconds=8 * DAY)
    recent = submit_leave(seeded, clock)
    relayed_and_read(seeded, clock, dispatcher)
    assert dispatcher.prune_once() == len(old_events)
    assert {r.instance_id for r in rows(seeded, outbox)} == {recent.instance_id}
    kept = {r.position for r in rows(seeded, outbox)}
    assert {f.position for f in rows(seeded, feeds)} <= kept and rows(seeded, feeds)
    assert rows(seeded, deliveries) == []
    assert len(rows(seeded, audit)) > audit_rows  # the record keeps everything
    assert dispatcher.prune_once() == 0


def test_a_notice_still_owed_to_someone_is_kept_however_old(
    seeded: Database, clock: ManualClock
) -> None:
    dispatcher = retaining(seeded, clock)
    outcome = submit_leave(seeded, clock)
    relayed_and_read(seeded, clock, dispatcher)
    owed = sorted(rows(seeded, outbox), key=lambda r: r.position)
    with seeded.writer() as conn:
        for row, status in zip(owed[:2], ("pending", "dead"), strict=True):
            conn.execute(
                sa.insert(deliveries).values(
                    event_id=row.event_id,
                    instance_id=outcome.instance_id,
                    sink="webhook",
                    target="ep-1",
                    status=status,
                    attempts=1,
                    next_attempt_at=clock.now(),
                    created_at=clock.now(),
                )
            )
    clock.advance(seconds=30 * DAY)
    assert dispatcher.prune_once() == len(owed) - 2
    assert [r.event_id for r in rows(seeded, outbox)] == [r.event_id for r in owed[:2]]
    assert len(rows(seeded, deliveries)) == 2


def test_notices_the_document_step_has_not_read_are_kept(
    seeded: Database, clock: ManualClock
) -> None:
    dispatcher = retaining(seeded, clock)
    submit_leave(seeded, clock)
    dispatcher.relay_once()  # relayed, but no document step ran
    clock.advance(seconds=30 * DAY)
    assert dispatcher.prune_once() == 0
    generate_documents_once(seeded, clock)
    waiting = len(rows(seeded, outbox))
    assert waiting and dispatcher.prune_once() == waiting
    assert rows(seeded, outbox) == []


def test_a_retention_of_zero_keeps_everything(seeded: Database, clock: ManualClock) -> None:
    dispatcher = retaining(seeded, clock, days=0)
    submit_leave(seeded, clock)
    relayed_and_read(seeded, clock, dispatcher)
    clock.advance(seconds=365 * DAY)
    assert dispatcher.prune_once() == 0
    assert rows(seeded, outbox)
