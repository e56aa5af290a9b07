"""The documents of a request: listing, downloading, and making one again.

- A request's documents are listed to everyone who may see the request. Downloading one
  also needs every field it fills to be visible to the caller: the document holds the
  whole form, so an approver whose node hides a field that the document uses is refused
  (`DocumentHidden`); the applicant, CC'd people, the template's admins, administrators
  and the owning app always may.
- Administrators, the template's admins and the owning app may have an approved request's
  document made again (`make_again`): after fixing a template that failed, or uploading
  one after the approval. The earlier documents stay listed.
"""

from __future__ import annotations

from typing import Any

from signoff.documents.errors import (
    DocumentHidden,
    InstanceNotApproved,
    UnknownDocument,
    UnknownDocumentTemplate,
)
from signoff.documents.library import DOCX, PDF, require_designer
from signoff.domain.forms import Access
from signoff.domain.instance import Instance
from signoff.domain.states import InstanceStatus
from signoff.service.access import access_instance, field_access
from signoff.service.auth import Caller
from signoff.service.ports import Clock
from signoff.store import document_queue
from signoff.store.documents import Document
from signoff.store.uow import SqlUnitOfWork

_SUFFIXES = ("_upper", "_start", "_end")


def hidden_placeholders(
    who: Caller, instance: Instance, placeholders: tuple[str, ...]
) -> list[str]:
    """The placeholders that show a field hidden from the caller."""
    access = field_access(who, instance)
    if access is None:
        return []
    hidden = {path for path, level in access.items() if level is Access.HIDDEN}
    out = []
    for name in placeholders:
        if name.startswith(("instance.", "approver.")):
            continue
        top = name.split(".", 1)[0]
        paths = {name, top}
        paths |= {p[: -len(s)] for p in (name, top) for s in _SUFFIXES if p.endswith(s)}
        if name.endswith(".row"):
            paths.add(name[: -len(".row")])
        if paths & hidden:
            out.append(name)
    return out


def documents_of(uow: SqlUnitOfWork, who: Caller, instance_id: str) -> list[dict[str, Any]]:
    """The request's documents, each saying whether the caller may download it."""
    with uow:
        instance = access_instance(uow, who, instance_id)
        found = uow.documents.of_instance(instance_id)
        used = _placeholders(uow, found)
    base = f"/api/v1/instances/{instance_id}/documents"
    out = []
    for d in found:
        hidden = hidden_placeholders(who, instance, used.get((d.template_key, d.from_version), ()))
        out.append(
            {
                "id": d.id,
                "status": d.status,
                "filename": d.filename,
                "created_at": d.created_at,
                "finished_at": d.finished_at,
                "docx": f"{base}/{d.id}" if d.has_docx else None,
                "pdf": f"{base}/{d.id}?format=pdf" if d.has_pdf else None,
                "pdf_wanted": d.pdf_wanted,
                "pdf_note": d.pdf_note,
                "error": d.error,
                "may_download": not hidden,
            }
        )
    return out


def _placeholders(
    uow: SqlUnitOfWork, found: list[Document]
) -> dict[tuple[str, int], tuple[str, ...]]:
    out: dict[tuple[str, int], tuple[str, ...]] = {}
    for d in found:
        key = (d.template_key, d.from_version)
        if key not in out:
            template = uow.documents.template_at(*key)
            out[key] = template.placeholders if template is not None else ()
    return out


def download(
    uow: SqlUnitOfWork, who: Caller, instance_id: str, document_id: str, kind: str = "docx"
) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of a request's document, as .docx or PDF."""
    with uow:
        instance = access_instance(uow, who, instance_id)
        try:
            document, content = uow.documents.content(instance_id, document_id, kind)
        except KeyError:
            raise UnknownDocument(
                f"instance {instance_id!r} has no {kind} document {document_id!r}",
                instance_id=instance_id,
                document_id=document_id,
            ) from None
        used = _placeholders(uow, [document]).get((document.template_key, document.from_version))
    hidden = hidden_placeholders(who, instance, used or ())
    if hidden:
        raise DocumentHidden(
            "the document shows fields that are hidden from you: " + ", ".join(hidden),
            instance_id=instance_id,
            placeholders=hidden,
        )
    if kind == "pdf":
        return document.filename.rsplit(".", 1)[0] + ".pdf", PDF, content
    return document.filename, DOCX, content


def make_again(uow: SqlUnitOfWork, clock: Clock, who: Caller, instance_id: str) -> dict[str, Any]:
    """Queue the document of an approved request once more; the worker makes it and
    announces it (`document.generated` / `document.failed`) as after an approval."""
    with uow:
        instance = access_instance(uow, who, instance_id)
        require_designer(who, instance, "making documents again")
        if instance.status is not InstanceStatus.APPROVED:
            raise InstanceNotApproved(
                f"instance {instance_id!r} is {instance.status.value}: documents are made "
                "for approved requests",
                instance_id=instance_id,
                status=instance.status.value,
            )
        document_id = document_queue.queue_again(uow.conn, instance_id, clock.now())
        if document_id is None:
            raise UnknownDocumentTemplate(
                f"template {instance.template.key!r} has no document template for version "
                f"{instance.template.version}",
                key=instance.template.key,
            )
        uow.commit()  # wakes the worker
    return next(d for d in documents_of(uow, who, instance_id) if d["id"] == document_id)
