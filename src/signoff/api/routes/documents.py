"""Documents: a template's Word document (administrators), a request's documents (everyone
who may see the request), and previewing one against a request (docs/documents.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from signoff.api.deps import CallerDep, ServicesDep
from signoff.documents import library, requested
from signoff.documents.validate import Limits

router = APIRouter(tags=["documents"])
_DISPOSITION_NAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.I)
Version = Annotated[int | None, Query(ge=1, description="a template version (default: newest)")]


def attachment(filename: str) -> str:
    """A Content-Disposition that keeps a Chinese file name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _upload(request: Request, filename: str | None) -> tuple[bytes, str | None]:
    """The file of a raw or multipart upload (the part named `file`), and its name."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:  # closes the parts' temporary files
            part = form.get("file")
            if part is None or isinstance(part, str):
                return b"", filename
            return await part.read(), filename or part.filename
    if filename is None:
        found = _DISPOSITION_NAME.search(request.headers.get("content-disposition", ""))
        filename = found[1] if found else None
    return await request.body(), filename


@router.put("/templates/{key}/document", summary="Upload a template's Word document")
async def upload(
    key: str,
    request: Request,
    who: CallerDep,
    svc: ServicesDep,
    generate: Annotated[bool, Query(description="make the document on approval")] = True,
    pdf: Annotated[bool, Query(description="also as PDF (needs LibreOffice)")] = False,
    from_version: Version = None,
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The .docx as the raw body (`Content-Type: application/vnd.openxmlformats-...`,
    name in `?filename=` or `Content-Disposition`) or as the `file` part of a multipart
    form. It applies to requests of `from_version` (default: the newest version) and
    later. Bad files are refused with 422 naming the problem (docs/documents.md)."""
    who.require_admin()
    data, name = await _upload(request, filename)
    limits = Limits(max_bytes=svc.settings.max_document_bytes)
    info = await run_in_threadpool(
        library.upload_template,
        svc.uow(),
        svc.clock,
        who,
        key,
        data,
        name,
        generate=generate,
        pdf=pdf,
        from_version=from_version,
        limits=limits,
    )
    return info.to_json()


@router.get("/templates/{key}/document", summary="A template's Word document: its placeholders")
def show(key: str, who: CallerDep, svc: ServicesDep, version: Version = None) -> dict[str, Any]:
    """The document template that applies to a template version, every placeholder it has,
    and the ones no request of the template can fill (`unknown_placeholders`: typos)."""
    return library.template_info(svc.uow(), who, key, version).to_json()


@router.get("/templates/{key}/document/file", summary="Download a template's Word document")
def template_file(key: str, who: CallerDep, svc: ServicesDep, version: Version = None) -> Response:
    found = library.template_file(svc.uow(), who, key, version)
    return Response(
        found.content,
        media_type=library.DOCX,
        headers={"Content-Disposition": attachment(found.filename)},
    )


@router.post(
    "/instances/{instance_id}/document/preview",
    summary="Preview a request's document: every placeholder, and which are missing",
)
def preview(instance_id: str, who: CallerDep, svc: ServicesDep) -> dict[str, Any]:
    """For administrators, the template's admins and the owning app."""
    return library.preview_for(svc.uow(), who, instance_id)


@router.get("/instances/{instance_id}/documents", summary="A request's documents")
def list_documents(instance_id: str, who: CallerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Made when the request was approved (pending, done or failed), each with its download
    links and whether you may download it."""
    return requested.documents_of(svc.uow(), who, instance_id)


@router.post(
    "/instances/{instance_id}/documents",
    status_code=202,
    summary="Make an approved request's document again",
)
def make_again(instance_id: str, who: CallerDep, svc: ServicesDep) -> dict[str, Any]:
    """For administrators, the template's admins and the owning app: after fixing a template
    whose document failed, or uploading one after the approval. The answer is the new
    document, pending; the worker makes it from the template that applies to the request
    now and announces it (`document.generated` or `document.failed`). Earlier documents
    stay listed. 409 `instance_not_approved` for a request that is not approved."""
    return requested.make_again(svc.uow(), svc.clock, who, instance_id)


@router.get("/instances/{instance_id}/documents/{document_id}", summary="Download a document")
def download(
    instance_id: str,
    document_id: str,
    who: CallerDep,
    svc: ServicesDep,
    kind: Annotated[Literal["docx", "pdf"], Query(alias="format")] = "docx",
) -> Response:
    """The .docx (or `?format=pdf`). Refused (403) when it shows fields hidden from you."""
    name, media_type, content = requested.download(svc.uow(), who, instance_id, document_id, kind)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": attachment(name), "Cache-Control": "private, no-store"},
    )
