"""Forgetting what was delivered: the outbox, its feeds and its deliveries do not grow forever.

A relayed notice is kept `event_retention_days` (7 by default; 0 keeps everything), then
deleted with its deliveries and its feed rows, once:

- every delivery of it is `delivered` (a pending one is still being tried; a dead one waits
  for an operator's replay, however old);
- the document step has read past it (`document_state`), so no approval is missed.

The audit trail keeps every event for good: it is the record, the outbox only the post.
A WebSocket client resuming from a position older than what is kept gets what is left and
re-reads its pages, as after any gap (docs/events.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, exists, func, select

from signoff.store.schema import deliveries, document_state, feeds, outbox


def prune_events(conn: Connection, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` relayed notices from before `before` whose every delivery is
    done, with their deliveries and feed rows (in the caller's transaction). Returns how
    many notices went."""
    read = select(func.coalesce(func.max(document_state.c.position), 0)).scalar_subquery()
    unfinished = exists().where(
        deliveries.c.event_id == outbox.c.event_id, deliveries.c.status != "delivered"
    )
    gone = conn.execute(
        select(outbox.c.id, outbox.c.event_id, outbox.c.position)
        .where(
            and_(
                outbox.c.position.is_not(None),
                outbox.c.position <= read,
                outbox.c.at < before,
                ~unfinished,
            )
        )
        .order_by(outbox.c.position)
        .limit(limit)
    ).all()
    if not gone:
        return 0
    conn.execute(delete(feeds).where(feeds.c.position.in_([g.position for g in gone])))
    conn.execute(delete(deliveries).where(deliveries.c.event_id.in_([g.event_id for g in gone])))
    conn.execute(delete(outbox).where(outbox.c.id.in_([g.id for g in gone])))
    return len(gone)
