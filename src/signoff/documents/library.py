"""Document templates per Signoff template: the use cases behind the API (upload, show,
download, preview against a request), each with its access rule. A request's own documents
are signoff.documents.requested's.

- Administrators upload a template's .docx (checked by `check_template`); it applies from a
  template version on (default: the newest), so running requests keep theirs.
- Previewing a document against a request is for administrators, the template's admins
  and the app that owns the template (`require_designer`): it names every placeholder and
  which are missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from signoff.documents.errors import (
    NotDocumentDesigner,
    UnknownDocumentTemplate,
)
from signoff.documents.render import preview
from signoff.documents.validate import DEFAULT_LIMITS, Limits, check_template
from signoff.documents.values import document_values
from signoff.domain.forms import FieldType
from signoff.domain.instance import Instance
from signoff.domain.templates import Template
from signoff.service.access import access_instance
from signoff.service.auth import Caller
from signoff.service.ports import Clock
from signoff.store.documents import DocumentTemplate
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


def require_designer(who: Caller, instance: Instance, doing: str) -> None:
    """Administrators, the template's admins and apps may handle a request's documents."""
    admins = instance.template.settings.admins
    if not (who.is_admin or who.app is not None or who.principal_id in admins):
        raise NotDocumentDesigner(
            f"{doing} is for administrators and the template's admins",
            instance_id=instance.id,
        )


def preview_for(uow: SqlUnitOfWork, who: Caller, instance_id: str) -> dict[str, Any]:
    """Every placeholder of the document template that applies to this request, and which
    ones the request cannot fill (yet: `instance.approved` waits for the approval)."""
    with uow:
        instance = access_instance(uow, who, instance_id)
        require_designer(who, instance, "previewing documents")
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
