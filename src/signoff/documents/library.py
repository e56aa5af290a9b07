"""Document templates per Signoff template, and the documents of a request: the use cases
behind the API (upload, show, preview, list, download), each with its access rule.

- Administrators upload a template's .docx (checked by `check_template`); it applies from a
  template version on (default: the newest), so running requests keep theirs.
- Previewing a document against a request is for administrators, the template's admins
  and the app that owns the template: it names every placeholder and which are missing.
- A request's documents are listed to everyone who may see the request. Downloading one
  also needs every field it fills to be visible to the caller: the document holds the
  whole form, so an approver whose node hides a field that the document uses is refused
  (`DocumentHidden`); the applicant, CC'd people, the template's admins, administrators
  and the owning app always may.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from signoff.documents.errors import (
    DocumentHidden,
    NotDocumentDesigner,
    UnknownDocument,
    UnknownDocumentTemplate,
)
from signoff.documents.render import preview
from signoff.documents.validate import DEFAULT_LIMITS, Limits, check_template
from signoff.documents.values import document_values
from signoff.domain.forms import Access, FieldType
from signoff.domain.instance import Instance
from signoff.domain.templates import Template
from signoff.service.access import access_instance, field_access
from signoff.service.auth import Caller
from signoff.service.ports import Clock
from signoff.store.documents import Document, DocumentTemplate
from signoff.store.uow import SqlUnitOfWork

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
_FACTS = (
    "id serial title template applicant department submitted submitted_at approved "
    "approved_at external_id"
).split()
_APPROVER = ("name", "decision", "comment", "date", "time")
_SUFFIXES = ("_upper", "_start", "_end")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """A document template as the API shows it (never its bytes)."""

    document: DocumentTemplate
    unknown: tuple[str, ...]  # placeholders no request of the template can fill
    versions: tuple[DocumentTemplate, ...]  # every upload of the key, newest first

    def to_json(self) -> dict[str, Any]:
        d = self.document
        return {
            "template_key": d.template_key,
            "from_version": d.from_version,
            "filename": d.filename,
            "size": d.size,
            "sha256": d.sha256,
            "generate": d.generate,
            "pdf": d.pdf,
            "uploaded_at": d.uploaded_at,
            "uploaded_by": d.uploaded_by,
            "placeholders": list(d.placeholders),
            "unknown_placeholders": list(self.unknown),
            "versions": [
                {
                    "from_version": v.from_version,
                    "filename": v.filename,
                    "uploaded_at": v.uploaded_at,
                }
                for v in self.versions
            ],
        }


def possible_names(template: Template) -> set[str]:
    """Every placeholder name some request of this template version can fill."""
    names = {f"instance.{fact}" for fact in _FACTS}
    for node in template.flow.approvers():
        names.update(f"approver.{node.id}.{part}" for part in _APPROVER)
    for f in template.form.fields:
        names.update(_field_names(f.id, f.type, f.currency))
        if f.type is FieldType.TABLE:
            names.add(f"{f.id}.row")
            for c in f.columns:
                names.update(_field_names(f"{f.id}.{c.id}", c.type, c.currency))
    return names


def _field_names(name: str, kind: FieldType, currency: str) -> list[str]:
    if kind is FieldType.MONEY and currency == "CNY":
        return [name, f"{name}_upper"]
    if kind is FieldType.DATE_RANGE:
        return [name, f"{name}_start", f"{name}_end"]
    return [name]


def clean_filename(filename: str | None, fallback: str) -> str:
    """A file name to store and offer for download: no folders, no control characters."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_NAME.sub("_", name).strip(" .")[:200]
    return name or fallback


def upload_template(
    uow: SqlUnitOfWork,
    clock: Clock,
    who: Caller,
    key: str,
    data: bytes,
    filename: str | None,
    *,
    generate: bool = True,
    pdf: bool = False,
    from_version: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> TemplateInfo:
    """Check and store a template's .docx (administrators)."""
    who.require_admin()
    names = check_template(data, filename, limits)
    with uow:
        template = uow.templates.get(key, from_version)
        document = DocumentTemplate(
            key,
            template.version,
            clean_filename(filename, f"{template.name}.docx"),
            len(data),
            hashlib.sha256(data).hexdigest(),
            names,
            generate,
            pdf,
            clock.now(),
            who.principal_id,
        )
        uow.documents.put_template(dataclasses.replace(document, content=data))
        versions = tuple(uow.documents.templates_of(key))
        uow.commit()
    return TemplateInfo(document, _unknown(names, template), versions)


def _unknown(names: tuple[str, ...], template: Template) -> tuple[str, ...]:
    possible = possible_names(template)
    return tuple(n for n in names if n not in possible)


def template_info(
    uow: SqlUnitOfWork, who: Caller, key: str, version: int | None = None
) -> TemplateInfo:
    """The document template that applies to a template version (default: the newest)."""
    who.require_admin()
    with uow:
        template = uow.templates.get(key, version)
        found = uow.documents.template_for(key, template.version)
        versions = tuple(uow.documents.templates_of(key))
    if found is None:
        raise UnknownDocumentTemplate(
            f"template {key!r} version {template.version} has no document template",
            key=key,
            version=template.version,
        )
    meta = dataclasses.replace(found, content=b"")
    return TemplateInfo(meta, _unknown(found.placeholders, template), versions)


def template_file(
    uow: SqlUnitOfWork, who: Caller, key: str, version: int | None = None
) -> DocumentTemplate:
    """The uploaded .docx itself, to edit it (administrators)."""
    who.require_admin()
    with uow:
        template = uow.templates.get(key, version)
        found = uow.documents.template_for(key, template.version)
    if found is None:
        raise UnknownDocumentTemplate(f"template {key!r} has no document template", key=key)
    return found


def preview_for(uow: SqlUnitOfWork, who: Caller, instance_id: str) -> dict[str, Any]:
    """Every placeholder of the document template that applies to this request, and which
    ones the request cannot fill (yet: `instance.approved` waits for the approval)."""
    with uow:
        instance = access_instance(uow, who, instance_id)
        admins = instance.template.settings.admins
        if not (who.is_admin or who.app is not None or who.principal_id in admins):
            raise NotDocumentDesigner(
                "previewing documents is for administrators and the template's admins",
                instance_id=instance_id,
            )
        found = uow.documents.template_for(instance.template.key, instance.template.version)
        if found is None:
            raise UnknownDocumentTemplate(
                f"template {instance.template.key!r} has no document template",
                key=instance.template.key,
            )
        values = document_values(instance, uow.directory)
    report = preview(found.content, values.values, values.tables)
    return {
        "instance_id": instance_id,
        "template_key": found.template_key,
        "from_version": found.from_version,
        "filename": found.filename,
        "placeholders": list(report.placeholders),
        "missing": list(report.missing),
        "malformed": list(report.malformed),
        "repeated": list(report.repeated),
        "ok": report.ok,
    }


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
