"""Making the documents of approved requests: a worker step, never inside the approval.

    made = generate_documents_once(db, clock)   # the dispatcher runs it every second

Each step (1) queues a document for every approval the relay published since the last step
whose template makes one (signoff.store.document_queue.discover: keyed by the approval's event
id, so a notice is never queued twice however often it is read); (2) leases a few pending
documents (`FOR UPDATE SKIP LOCKED` on PostgreSQL: two workers never make the same one at
once); (3) renders each outside any transaction — the .docx, and the PDF when the template
asks for one and LibreOffice is installed (else the reason is recorded); (4) records the
result and its notice in one transaction, only while the document is still pending:
`document.generated`, or `document.failed` naming the error and the placeholders without a
value. A worker that dies mid-way leaves a lease that runs out; the next one makes it again
and only one result is ever recorded. Unexpected errors are retried on the next lease, and
recorded as failed after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from signoff.documents.errors import DocumentInvalid
from signoff.documents.library import DOCX
from signoff.documents.pdf import to_pdf
from signoff.documents.render import render
from signoff.documents.values import document_values
from signoff.domain.instance import Instance
from signoff.domain.notices import document_notice
from signoff.service.ports import Clock
from signoff.store import document_queue as queue
from signoff.store.database import Database
from signoff.store.instances import outbox_row
from signoff.store.schema import outbox
from signoff.store.uow import SqlUnitOfWork

log = logging.getLogger("signoff.documents")

LEASE = timedelta(minutes=5)  # longer than a render and a PDF conversion take
MAX_ATTEMPTS = 5


def generate_documents_once(
    db: Database,
    clock: Clock,
    *,
    limit: int = 5,
    lease: timedelta = LEASE,
    soffice: str | None = None,
) -> int:
    """One step (sync: run it in a thread). Returns how many documents were finished."""
    now = clock.now()
    with db.reader() as conn:
        if not queue.has_work(conn, now):
            return 0
    with db.writer() as conn:
        queue.discover(conn, now)
        claimed = queue.claim(conn, now, lease, limit)
    finished = sum(_make(db, clock, item, soffice) for item in claimed)
    if finished:
        db.committed()  # wake the relay: there are notices to publish
    return finished


def _make(db: Database, clock: Clock, item: queue.Claim, soffice: str | None) -> bool:
    try:
        with SqlUnitOfWork(db) as uow:
            instance = uow.instances.get(item.instance_id, lock=False)
            template = uow.documents.template_at(item.template_key, item.from_version)
            if template is None:
                raise LookupError(f"document template {item.template_key}@{item.from_version}")
            values = document_values(instance, uow.directory)
        result, kind, data = _render(template.content, values.values, values.tables, item, soffice)
    except Exception as error:  # a database or engine failure: retried on the next lease
        log.exception("document %s of %s not made", item.id, item.instance_id)
        if item.attempts < MAX_ATTEMPTS:
            return False
        result = {"status": "failed", "error": {"code": "internal_error", "message": str(error)}}
        kind, data = "document.failed", {"code": "internal_error", "message": str(error)}
        instance = None
    return _record(db, clock.now(), item, instance, result, kind, data)


def _render(
    content: bytes,
    values: dict[str, str],
    tables: dict[str, list[dict[str, str]]],
    item: queue.Claim,
    soffice: str | None,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The row's new values, the notice type and the notice's own data."""
    try:
        docx = render(content, values, tables)
    except DocumentInvalid as error:
        names = error.details.get("placeholders")
        problem = {
            "code": error.code,
            "message": error.message,
            "placeholders": [str(n) for n in names] if isinstance(names, list) else [],
        }
        return {"status": "failed", "error": problem}, "document.failed", problem
    pdf, note = None, None
    if item.pdf_wanted:
        converted = to_pdf(docx, soffice=soffice)
        pdf, note = converted.pdf, converted.reason
    url = f"/api/v1/instances/{item.instance_id}/documents/{item.id}"
    data = {
        "filename": item.filename,
        "content_type": DOCX,
        "url": url,
        "pdf_url": f"{url}?format=pdf" if pdf is not None else None,
        "pdf_note": note,
    }
    return (
        {"status": "done", "docx": docx, "pdf": pdf, "pdf_note": note},
        "document.generated",
        data,
    )


def _record(
    db: Database,
    now: datetime,
    item: queue.Claim,
    instance: Instance | None,
    result: dict[str, Any],
    kind: str,
    data: dict[str, Any],
) -> bool:
    with SqlUnitOfWork(db) as uow:
        if instance is None:
            instance = uow.instances.get(item.instance_id, lock=False)
        if not queue.finish(uow.conn, item.id, {**result, "finished_at": now}):
            return False  # another worker recorded it first
        own = {"document_id": item.id, **data}
        notice = document_notice(instance, kind, f"{item.instance_id}:doc:{item.id}", now, own)
        uow.conn.execute(insert(outbox), outbox_row(notice))
        uow.commit()
    if kind == "document.failed":
        log.warning("document %s of %s failed: %s", item.id, item.instance_id, data.get("message"))
    return True
