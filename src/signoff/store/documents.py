"""Document templates and the documents made from approved requests, in SQL.

A document template (.docx) belongs to a template key and applies from a template version
on: an instance on version v uses the one with the greatest `from_version` <= v. Making
the documents is signoff.store.document_queue's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from signoff.store.schema import document_templates, documents

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
