"""Errors of the document engine: refused templates and placeholders without a value.

The engine's are `Invalid` (the API answers 422), each with a stable `code`; the message names
the file entry, the limit or the placeholder, and `details` / `problems` carry them as data.

    Invalid
      DocumentInvalid          document_invalid        (the kind of every error below)
        NotDocx                docx_not_docx           not a zip / no Word main part / bad XML
        DocxTooLarge           docx_too_large          the upload is over the size limit
        DocxTooManyEntries     docx_too_many_entries   more zip entries than the limit
        DocxZipBomb            docx_zip_bomb           unpacks to too much / compresses too well
        DocxUnsafeEntry        docx_unsafe_entry       traversal, absolute, duplicate, encrypted
        DocxUnsafeXml          docx_unsafe_xml         a DTD (entity expansion, external entities)
        DocxExternalLink       docx_external_link      a remote template, frame, object, picture
        DocxMacros             docx_macros             .docm, vbaProject.bin, macro/ActiveX types
        PlaceholderMalformed   placeholder_malformed   `${party a}`, `${amount`, `$甲方`, two tables
        PlaceholderMissing     placeholder_missing     a placeholder has no value (each one named)

Finding and showing documents (signoff.documents.library):

    NotFound
      UnknownDocumentTemplate  unknown_document_template  no .docx uploaded for the template
      UnknownDocument          unknown_document           no such document of the instance
    Forbidden
      DocumentHidden           document_hidden_fields     it holds fields hidden from the caller
      NotDocumentDesigner      not_document_designer      preview, make again: administrators,
                                                          template admins, the owning app
    Conflict
      InstanceNotApproved      instance_not_approved      make again: only approved requests
"""

from __future__ import annotations

from signoff.domain.errors import Conflict, Forbidden, Invalid, NotFound, Problem


class DocumentInvalid(Invalid):
    """A template or a document request that cannot be accepted as it is."""

    code = "document_invalid"


class NotDocx(DocumentInvalid):
    code = "docx_not_docx"


class DocxTooLarge(DocumentInvalid):
    code = "docx_too_large"


class DocxTooManyEntries(DocumentInvalid):
    code = "docx_too_many_entries"


class DocxZipBomb(DocumentInvalid):
    code = "docx_zip_bomb"


class DocxUnsafeEntry(DocumentInvalid):
    code = "docx_unsafe_entry"


class DocxUnsafeXml(DocumentInvalid):
    code = "docx_unsafe_xml"


class DocxExternalLink(DocumentInvalid):
    code = "docx_external_link"


class DocxMacros(DocumentInvalid):
    code = "docx_macros"


class PlaceholderMalformed(DocumentInvalid):
    """Text that looks like a placeholder but is not one; `problems` quote each."""

    code = "placeholder_malformed"

    def __init__(self, problems: list[Problem]) -> None:
        shown = ", ".join(p.path for p in problems[:5])
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        super().__init__(
            f"the template has {len(problems)} malformed placeholder(s): {shown}{more}",
            problems,
            placeholders=[p.path for p in problems],
        )


class PlaceholderMissing(DocumentInvalid):
    """Placeholders of the template that have no value for this request (every one named)."""

    code = "placeholder_missing"

    def __init__(self, names: list[str]) -> None:
        shown = ", ".join(f"${{{n}}}" for n in names[:10])
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        super().__init__(
            f"{len(names)} placeholder(s) have no value: {shown}{more}",
            [Problem(name, "missing", "no value for this placeholder") for name in names],
            placeholders=list(names),
        )
        self.names = tuple(names)


class UnknownDocumentTemplate(NotFound):
    code = "unknown_document_template"


class UnknownDocument(NotFound):
    code = "unknown_document"


class DocumentHidden(Forbidden):
    """The document fills fields that the caller's approver node hides from them."""

    code = "document_hidden_fields"


class NotDocumentDesigner(Forbidden):
    """Previewing a document against a request is for administrators and template admins."""

    code = "not_document_designer"


class InstanceNotApproved(Conflict):
    """Documents are made from approved requests only."""

    code = "instance_not_approved"
