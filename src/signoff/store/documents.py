"""Document templates and the documents made from approved requests, in SQL.

A document template (.docx) belongs to a template key and applies from a template version
on: an instance on version v uses the one with the greatest `from_version` <= v.

Making documents is a queue fed from the relayed outbox, never from a command's
transaction (signoff.documents.generator drives it):

1. `discover` (one at a time: it locks the `document_state` row) reads the notices the
   relay gave positions to since last time, in position order, and for each
   `instance.approved` whose template makes documents inserts one `documents` row,
   pending, keyed by the approval's event id (unique: a notice is never queued twice).
2. `claim` leases pending rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL); the worker renders
   outside any transaction, then `finish` records the result only while the row is still
   pending, so of two workers that rendered the same row (a lease ran out) one records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from signoff.service.ids import new_id
from signoff.store.schema import document_state, document_templates, documents, instances, outbox

APPROVED = "instance.approved"


@dataclass(frozen=True, slots=True)
class DocumentTemplate:
    template_key: str
    from_version: int
    filename: str
    size: int
    sha256: str
    placeholders: tuple[str, ...]
    generate: bool
    pdf: bool
    uploaded_at: datetime
    uploaded_by: str | None
    content: bytes = field(default=b"", repr=False)  # empty unless asked for


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    instance_id: str
    template_key: str
    from_version: int
    status: str  # pending | done | failed
    filename: str
    pdf_wanted: bool
    has_docx: bool
    has_pdf: bool
    pdf_note: str | None
    error: dict[str, Any] | None
    attempts: int
    created_at: datetime
    finished_at: datetime | None


_META = [c for c in document_templates.c if c.name != "content"]
_DOC = [c for c in documents.c if c.name not in ("docx", "pdf")]


def _template(row: Any, content: bytes = b"") -> DocumentTemplate:
    return DocumentTemplate(
        row.template_key,
        row.from_version,
        row.filename,
        row.size,
        row.sha256,
        tuple(row.placeholders),
        row.generate,
        row.pdf,
        row.uploaded_at,
        row.uploaded_by,
        content,
    )


def _document(row: Any) -> Document:
    return Document(
        row.id,
        row.instance_id,
        row.template_key,
        row.from_version,
        row.status,
        row.filename,
        row.pdf_wanted,
        bool(row.has_docx),
        bool(row.has_pdf),
        row.pdf_note,
        row.error,
        row.attempts,
        row.created_at,
        row.finished_at,
    )


_has = (
    documents.c.docx.is_not(None).label("has_docx"),
    documents.c.pdf.is_not(None).label("has_pdf"),
)


class SqlDocumentStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put_template(self, template: DocumentTemplate) -> None:
        """Store an uploaded template, replacing one uploaded for the same first version."""
        key = (template.template_key, template.from_version)
        self.conn.execute(
            delete(document_templates).where(
                document_templates.c.template_key == key[0],
                document_templates.c.from_version == key[1],
            )
        )
        values = {f: getattr(template, f) for f in DocumentTemplate.__dataclass_fields__}
        values["placeholders"] = list(template.placeholders)
        self.conn.execute(insert(document_templates).values(values))

    def template_for(self, key: str, version: int) -> DocumentTemplate | None:
        """The template that applies to instances of this template version, with its bytes."""
        row = self.conn.execute(
            select(document_templates)
            .where(
                document_templates.c.template_key == key,
                document_templates.c.from_version <= version,
            )
            .order_by(document_templates.c.from_version.desc())
            .limit(1)
        ).one_or_none()
        return None if row is None else _template(row, row.content)

    def template_at(self, key: str, from_version: int) -> DocumentTemplate | None:
        """The template uploaded for exactly this first version, with its bytes."""
        row = self.conn.execute(
            select(document_templates).where(
                document_templates.c.template_key == key,
                document_templates.c.from_version == from_version,
            )
        ).one_or_none()
        return None if row is None else _template(row, row.content)

    def templates_of(self, key: str) -> list[DocumentTemplate]:
        """Every template uploaded for a key, newest first (without their bytes)."""
        rows = self.conn.execute(
            select(*_META)
            .where(document_templates.c.template_key == key)
            .order_by(document_templates.c.from_version.desc())
        )
        return [_template(r) for r in rows]

    def of_instance(self, instance_id: str) -> list[Document]:
        rows = self.conn.execute(
            select(*_DOC, *_has)
            .where(documents.c.instance_id == instance_id)
            .order_by(documents.c.created_at, documents.c.id)
        )
        return [_document(r) for r in rows]

    def content(self, instance_id: str, document_id: str, kind: str) -> tuple[Document, bytes]:
        """A document of this instance and its bytes (`docx` or `pdf`); KeyError if none."""
        column = documents.c.pdf if kind == "pdf" else documents.c.docx
        row = self.conn.execute(
            select(*_DOC, *_has, column.label("content")).where(
                documents.c.id == document_id, documents.c.instance_id == instance_id
            )
        ).one_or_none()
        if row is None or row.content is None:
            raise KeyError(document_id)
        return _document(row), bytes(row.content)


# ---- the queue -----------------------------------------------------------------------------


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
        from_version, filename, pdf, _ = found
        stem = filename.rsplit(".", 1)[0]
        out.append(
            {
                "id": new_id(),
                "instance_id": row.instance_id,
                "event_id": row.event_id,
                "template_key": row.template_key,
                "from_version": from_version,
                "status": "pending",
                "filename": f"{stem}-{row.serial or row.instance_id}.docx",
                "pdf_wanted": pdf,
                "attempts": 0,
                "created_at": now,
            }
        )
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
