"""The outbox in SQL: relaying committed notices, and the deliveries that carry them out.

Two stages, each in its own short transaction, never inside a command's:

1. `relay` (one relay at a time: it locks the `relay_state` row) takes the outbox rows
   that have no position yet, in id order, and gives each the next gap-free position.
   That order is commit order per instance (an instance's commands are serialised on
   its row, so a later command's rows get higher ids and commit later) — and
   positions never go back, so a WebSocket client resumes with "after position N".
   For each notice it writes the audience's `feeds` rows and one `deliveries` row per
   receiver: every webhook endpoint that wants it, NATS, and an e-mail for people
   who may be offline.
2. `claim` / `delivered` / `failed`: workers lease due deliveries (`FOR UPDATE SKIP
   LOCKED` on PostgreSQL, so two workers never hold the same row), deliver outside
   any transaction, then record the result. A delivery waits while an earlier one to
   the same receiver about the same instance is still pending: order per instance is
   kept even across retries. A lease that runs out (a worker died) makes the row due
   again: delivery is at least once, and receivers de-duplicate by event id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from signoff.store.schema import (
    app_templates,
    deliveries,
    feeds,
    outbox,
    presence,
    principals,
    relay_state,
    webhook_endpoints,
)

RELAY_BATCH = 500  # notices relayed per transaction
MAIL_TYPES = frozenset({"task.assigned", "task.timed_out", "instance.urged"})


def _mailed(row: Any) -> bool:
    """Whether a notice goes out as e-mail to its offline audience: new tasks, reminders
    and urges, except for a request mirrored from another system (WeCom), whose approvers
    act there and hear about it there."""
    return row.type in MAIL_TYPES and "external" not in (row.data or {})


@dataclass(frozen=True, slots=True)
class Routing:
    """What the relay needs to know about the sinks that are switched on."""

    nats: bool = False  # SIGNOFF_NATS_URL is set
    mail: bool = False  # SMTP is configured
    mail_batch: timedelta = timedelta(seconds=60)  # how long new-task mails wait to batch


@dataclass(frozen=True, slots=True)
class Relayed:
    first: int  # the first position given out (0 when nothing was relayed)
    last: int

    def __bool__(self) -> bool:
        return self.last >= self.first > 0


def _lock_position(conn: Connection) -> int:
    query = select(relay_state.c.position).where(relay_state.c.id == 1)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    position = conn.execute(query).scalar()
    if position is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(relay_state).values(id=1, position=0))
        except IntegrityError:  # another relay made it first: wait for its lock
            pass
        position = conn.execute(query).scalar()
    return int(position or 0)


def relay(conn: Connection, now: datetime, routing: Routing, limit: int = RELAY_BATCH) -> Relayed:
    """Give positions to committed, unrelayed notices and fan them out (in the caller's
    transaction; commit it to publish)."""
    last = _lock_position(conn)
    columns = [outbox.c[n] for n in ("id", "event_id", "instance_id", "template_key", "type")]
    columns.append(outbox.c.audience)
    if routing.mail:  # a mirrored request's people act in the other system: no mail
        columns.append(outbox.c.data)
    rows = conn.execute(
        select(*columns).where(outbox.c.position.is_(None)).order_by(outbox.c.id).limit(limit)
    ).all()
    if not rows:
        return Relayed(0, 0)
    first = last + 1
    positions = [{"_id": r.id, "position": last + i} for i, r in enumerate(rows, 1)]
    conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("_id"))
        .values(position=bindparam("position")),
        positions,
    )
    feed_rows = [
        {"principal_id": person, "position": p["position"]}
        for r, p in zip(rows, positions, strict=True)
        for person in r.audience
    ]
    if feed_rows:
        conn.execute(insert(feeds), feed_rows)
    out = _deliveries(conn, rows, now, routing)
    if out:
        conn.execute(insert(deliveries), out)
    last += len(rows)
    conn.execute(update(relay_state).where(relay_state.c.id == 1).values(position=last))
    return Relayed(first, last)


def _deliveries(
    conn: Connection, rows: Sequence[Any], now: datetime, routing: Routing
) -> list[dict[str, Any]]:
    keys = {r.template_key for r in rows}
    owners: dict[str, list[str]] = {}
    for app_id, key in conn.execute(
        select(app_templates.c.app_id, app_templates.c.template_key).where(
            app_templates.c.template_key.in_(keys)
        )
    ):
        owners.setdefault(key, []).append(app_id)
    endpoints: dict[str, list[tuple[str, list[str]]]] = {}
    apps = {a for ids in owners.values() for a in ids}
    if apps:
        for ep in conn.execute(
            select(
                webhook_endpoints.c.id, webhook_endpoints.c.app_id, webhook_endpoints.c.event_types
            )
            .where(webhook_endpoints.c.app_id.in_(apps), webhook_endpoints.c.disabled_at.is_(None))
            .order_by(webhook_endpoints.c.id)
        ):
            endpoints.setdefault(ep.app_id, []).append((ep.id, ep.event_types))
    mailable: set[str] = set()
    if routing.mail:
        people = {p for r in rows if _mailed(r) for p in r.audience}
        if people:
            mailable = set(
                conn.execute(
                    select(principals.c.id).where(
                        principals.c.id.in_(people), principals.c.email.is_not(None)
                    )
                ).scalars()
            )
    out: list[dict[str, Any]] = []

    def add(row: Any, sink: str, target: str, due: datetime) -> None:
        out.append(
            {
                "event_id": row.event_id,
                "instance_id": row.instance_id,
                "sink": sink,
                "target": target,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
            }
        )

    for row in rows:
        for app_id in owners.get(row.template_key, ()):
            for endpoint_id, types in endpoints.get(app_id, ()):
                if "*" in types or row.type in types:
                    add(row, "webhook", endpoint_id, now)
        if routing.nats:
            for app_id in owners.get(row.template_key, ["_"]):
                add(row, "nats", app_id, now)
        if routing.mail and _mailed(row):
            for person in row.audience:
                if person in mailable:
                    add(row, "mail", person, now + routing.mail_batch)
    return out


# ---- deliveries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event_id: str
    instance_id: str
    sink: str
    target: str
    attempts: int  # including this one
    created_at: datetime


def has_due(conn: Connection, sink: str, now: datetime) -> bool:
    """Whether a sink has a pending delivery due (a read on `ix_deliveries_due`: idle
    workers ask it first and take no write lock — on SQLite the one writer the commands
    queue for — when there is nothing to claim)."""
    due = exists().where(
        deliveries.c.sink == sink,
        deliveries.c.status == "pending",
        deliveries.c.next_attempt_at <= now,
    )
    return bool(conn.execute(select(due)).scalar())


def claim(
    conn: Connection, sink: str, now: datetime, lease: timedelta, limit: int = 50
) -> list[Delivery]:
    """Lease due deliveries of one sink, oldest first, at most one per receiver and
    instance (the earliest pending one), skipping rows another worker holds."""
    d = deliveries.alias("d")
    e = deliveries.alias("e")
    earlier = exists().where(
        e.c.sink == d.c.sink,
        e.c.target == d.c.target,
        e.c.instance_id == d.c.instance_id,
        e.c.status == "pending",
        e.c.id < d.c.id,
    )
    query = (
        select(d.c.id)
        .where(
            d.c.sink == sink,
            d.c.status == "pending",
            d.c.next_attempt_at <= now,
            (d.c.lease_until.is_(None)) | (d.c.lease_until <= now),
            ~earlier,
        )
        .order_by(d.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True, of=d)
    ids = list(conn.execute(query).scalars())
    return _lease(conn, ids, now, lease)


def claim_mail(
    conn: Connection, now: datetime, lease: timedelta, limit: int = 20
) -> dict[str, list[Delivery]]:
    """E-mail goes out as one digest per person: lease every pending mail of the people
    whose oldest pending mail is due."""
    due = (
        select(deliveries.c.target)
        .where(
            deliveries.c.sink == "mail",
            deliveries.c.status == "pending",
            (deliveries.c.lease_until.is_(None)) | (deliveries.c.lease_until <= now),
        )
        .group_by(deliveries.c.target)
        .having(func.min(deliveries.c.next_attempt_at) <= now)
        .limit(limit)
    )
    people = list(conn.execute(due).scalars())
    if not people:
        return {}
    query = select(deliveries.c.id).where(
        deliveries.c.sink == "mail",
        deliveries.c.status == "pending",
        deliveries.c.target.in_(people),
        (deliveries.c.lease_until.is_(None)) | (deliveries.c.lease_until <= now),
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    out: dict[str, list[Delivery]] = {}
    for item in _lease(conn, list(conn.execute(query).scalars()), now, lease):
        out.setdefault(item.target, []).append(item)
    return out


def _lease(conn: Connection, ids: list[int], now: datetime, lease: timedelta) -> list[Delivery]:
    if not ids:
        return []
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids))
        .values(lease_until=now + lease, attempts=deliveries.c.attempts + 1)
    )
    rows = conn.execute(
        select(deliveries).where(deliveries.c.id.in_(ids)).order_by(deliveries.c.id)
    ).all()
    return [
        Delivery(r.id, r.event_id, r.instance_id, r.sink, r.target, r.attempts, r.created_at)
        for r in rows
    ]


def delivered(conn: Connection, ids: Iterable[int], now: datetime) -> None:
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(list(ids)))
        .values(status="delivered", delivered_at=now, lease_until=None, last_error=None)
    )


def failed(
    conn: Connection, item: Delivery, now: datetime, error: str, retry_at: datetime | None
) -> None:
    """A failed attempt: try again at `retry_at`, or dead-letter it when that is None."""
    values: dict[str, Any] = {"lease_until": None, "last_error": error[:2000]}
    if retry_at is None:
        values["status"] = "dead"
    else:
        values["next_attempt_at"] = retry_at
    conn.execute(update(deliveries).where(deliveries.c.id == item.id).values(values))


def replay(conn: Connection, ids: Sequence[int], now: datetime) -> int:
    """Dead deliveries go out again (a fresh retry window starts now)."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(list(ids)), deliveries.c.status == "dead")
        .values(status="pending", next_attempt_at=now, created_at=now, attempts=0, lease_until=None)
    )
    return result.rowcount


def notices(conn: Connection, event_ids: Iterable[str]) -> dict[str, Any]:
    """The outbox rows of these notices, by event id."""
    rows = conn.execute(select(outbox).where(outbox.c.event_id.in_(list(event_ids)))).all()
    return {r.event_id: r for r in rows}


# ---- WebSocket feeds -------------------------------------------------------------------


def relayed_after(conn: Connection, position: int, limit: int = 1000) -> list[Any]:
    """Relayed notices after a position, in order (what every server node pushes)."""
    return list(
        conn.execute(
            select(outbox)
            .where(outbox.c.position > position)
            .order_by(outbox.c.position)
            .limit(limit)
        )
    )


def feed_after(conn: Connection, principal_id: str, position: int, limit: int = 500) -> list[Any]:
    """What one person missed after a position (a reconnecting WebSocket)."""
    return list(
        conn.execute(
            select(outbox)
            .join(feeds, feeds.c.position == outbox.c.position)
            .where(feeds.c.principal_id == principal_id, feeds.c.position > position)
            .order_by(feeds.c.position)
            .limit(limit)
        )
    )


def last_position(conn: Connection) -> int:
    value = conn.execute(select(relay_state.c.position).where(relay_state.c.id == 1)).scalar()
    return int(value or 0)


# ---- presence: who has a WebSocket open on some node --------------------------------------


def set_presence(conn: Connection, node: str, people: Iterable[str], now: datetime) -> None:
    """Replace this node's presence rows with the people connected to it now."""
    conn.execute(presence.delete().where(presence.c.node == node))
    rows = [{"node": node, "principal_id": p, "seen_at": now} for p in sorted(set(people))]
    if rows:
        conn.execute(insert(presence), rows)


def online(conn: Connection, people: Iterable[str], since: datetime) -> set[str]:
    return set(
        conn.execute(
            select(presence.c.principal_id).where(
                and_(presence.c.principal_id.in_(list(people)), presence.c.seen_at >= since)
            )
        ).scalars()
    )
