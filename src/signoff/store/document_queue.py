"""The queue of documents to make, fed from the relayed outbox, never from a command's
transaction (signoff.documents.generator drives it):

1. `discover` (one at a time: it locks the `document_state` row) reads the notices the
   relay gave positions to since last time, in position order, and for each
   `instance.approved` whose template makes documents inserts one `documents` row,
   pending, keyed by the approval's event id (unique: a notice is never queued twice).
2. `claim` leases pending rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL); the worker renders
   outside any transaction, then `finish` records the result only while the row is still
   pending, so of two workers that rendered the same row (a lease ran out) one records it.
3. `queue_again` adds a pending row for an approved request on an administrator's word
   (a template fixed after a failure, or uploaded after the approval).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from signoff.service.ids import new_id
from signoff.store.schema import document_state, document_templates, documents, instances, outbox

APPROVED = "instance.approved"
_DOC = [c for c in documents.c if c.name not in ("docx", "pdf")]


def _lock_position(conn: Connection) -> int:
    query = select(document_state.c.position).where(document_state.c.id == 1)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update()
    position = conn.execute(query).scalar()
    if position is None:  # emptied tables (tests): start from the beginning
        try:
            with conn.begin_nested():
                conn.execute(insert(document_state).values(id=1, position=0))
        except IntegrityError:  # another worker made it first: wait for its lock
            pass
        position = conn.execute(query).scalar()
    return int(position or 0)


def has_work(conn: Connection, now: datetime) -> bool:
    """Whether a step would find anything: notices relayed since the last discovery, or a
    pending document whose lease is free (a read, so idle workers take no write lock)."""
    seen = select(document_state.c.position).where(document_state.c.id == 1).scalar_subquery()
    newer = exists().where(outbox.c.position > func.coalesce(seen, 0))
    due = exists().where(
        documents.c.status == "pending",
        (documents.c.lease_until.is_(None)) | (documents.c.lease_until <= now),
    )
    return bool(conn.execute(select(newer | due)).scalar())


def discover(conn: Connection, now: datetime, limit: int = 500) -> int:
    """Queue a document for each newly relayed approval whose template makes one (in the
    caller's transaction). Returns how many were queued."""
    last = _lock_position(conn)
    rows = conn.execute(
        select(
            outbox.c.position,
            outbox.c.type,
            outbox.c.event_id,
            outbox.c.instance_id,
            outbox.c.template_key,
            instances.c.template_version,
            instances.c.serial,
        )
        .join(instances, instances.c.id == outbox.c.instance_id, isouter=True)
        .where(outbox.c.position > last)
        .order_by(outbox.c.position)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    approved = [r for r in rows if r.type == APPROVED and r.template_version is not None]
    known = _templates(conn, {r.template_key for r in approved})
    out = []
    for row in approved:
        # the template that applies: the newest uploaded for this version or an earlier one
        found = next(
            (t for t in known.get(row.template_key, ()) if t[0] <= row.template_version), None
        )
        if found is None or not found[3]:
            continue  # none, or it does not make documents on approval
        out.append(_pending(row, row.event_id, found, now))
    if out:
        queued = set(
            conn.execute(
                select(documents.c.event_id).where(
                    documents.c.event_id.in_([o["event_id"] for o in out])
                )
            ).scalars()
        )
        out = [o for o in out if o["event_id"] not in queued]
    if out:
        conn.execute(insert(documents), out)
    conn.execute(
        update(document_state).where(document_state.c.id == 1).values(position=rows[-1].position)
    )
    return len(out)


def queue_again(conn: Connection, instance_id: str, now: datetime) -> str | None:
    """Queue the document of an approved request once more, from the template that applies
    to it now (whether or not that one makes documents on approval). Returns the new
    document's id, or None when no template applies."""
    row = conn.execute(
        select(
            instances.c.id.label("instance_id"),
            instances.c.template_key,
            instances.c.template_version,
            instances.c.serial,
        ).where(instances.c.id == instance_id)
    ).one()
    found = next(
        (
            t
            for t in _templates(conn, {row.template_key}).get(row.template_key, ())
            if t[0] <= row.template_version
        ),
        None,
    )
    if found is None:
        return None
    document = _pending(row, "", found, now)
    document["event_id"] = f"{instance_id}:again:{document['id']}"  # unique like a notice's
    conn.execute(insert(documents).values(document))
    return str(document["id"])


def _pending(
    row: Any, event_id: str, found: tuple[int, str, bool, bool], now: datetime
) -> dict[str, Any]:
    """A pending `documents` row for the request in `row` from the template `found`."""
    from_version, filename, pdf, _ = found
    stem = filename.rsplit(".", 1)[0]
    return {
        "id": new_id(),
        "instance_id": row.instance_id,
        "event_id": event_id,
        "template_key": row.template_key,
        "from_version": from_version,
        "status": "pending",
        "filename": f"{stem}-{row.serial or row.instance_id}.docx",
        "pdf_wanted": pdf,
        "attempts": 0,
        "created_at": now,
    }


def _templates(conn: Connection, keys: set[str]) -> dict[str, list[tuple[int, str, bool, bool]]]:
    """Per key, its document templates newest first: (from_version, filename, pdf, generate)."""
    out: dict[str, list[tuple[int, str, bool, bool]]] = {}
    if not keys:
        return out
    rows = conn.execute(
        select(
            document_templates.c.template_key,
            document_templates.c.from_version,
            document_templates.c.filename,
            document_templates.c.pdf,
            document_templates.c.generate,
        )
        .where(document_templates.c.template_key.in_(keys))
        .order_by(document_templates.c.from_version.desc())
    )
    for r in rows:
        out.setdefault(r.template_key, []).append((r.from_version, r.filename, r.pdf, r.generate))
    return out


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    instance_id: str
    event_id: str
    template_key: str
    from_version: int
    filename: str
    pdf_wanted: bool
    attempts: int  # including this one


def claim(conn: Connection, now: datetime, lease: timedelta, limit: int = 5) -> list[Claim]:
    """Lease pending documents whose lease is free, oldest first."""
    query = (
        select(documents.c.id)
        .where(
            documents.c.status == "pending",
            (documents.c.lease_until.is_(None)) | (documents.c.lease_until <= now),
        )
        .order_by(documents.c.created_at, documents.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(
        update(documents)
        .where(documents.c.id.in_(ids))
        .values(lease_until=now + lease, attempts=documents.c.attempts + 1)
    )
    rows = conn.execute(select(*_DOC).where(documents.c.id.in_(ids)).order_by(documents.c.id))
    return [
        Claim(
            r.id,
            r.instance_id,
            r.event_id,
            r.template_key,
            r.from_version,
            r.filename,
            r.pdf_wanted,
            r.attempts,
        )
        for r in rows
    ]


def finish(conn: Connection, document_id: str, values: dict[str, Any]) -> bool:
    """Record a result (`status` done or failed, the bytes, the note or error) while the
    document is still pending; False when another worker already did."""
    result = conn.execute(
        update(documents)
        .where(documents.c.id == document_id, documents.c.status == "pending")
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1
