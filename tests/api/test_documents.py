"""Documents through the API: administrators upload a template's .docx; a request's documents
are listed to those who may see it and downloaded by those who may see every field in it."""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any
from urllib.parse import quote

from signoff.store.database import Database
from tests.api.conftest import ADMIN, Api
from tests.api.test_access import ok, refused
from tests.conftest import EXAMPLES
from tests.documents.stored import approve_contract, contract_docx, relay_and_generate

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
URL = "/api/v1/templates/purchase_contract/document"


def put_raw(api: Api, data: bytes, name: str = "采购合同.docx", **params: Any) -> Any:
    return api.as_(ADMIN).put(
        URL,
        content=data,
        params={"filename": name, **params},
        headers={"Content-Type": DOCX},
    )


def contract_with_documents(api: Api, seeded: Database) -> str:
    ok(put_raw(api, contract_docx()))
    instance_id = approve_contract(seeded, api.clock)
    assert relay_and_generate(seeded, api.clock) == 1
    api.clients.clear()  # the clock moved on: fresh access tokens
    return instance_id


def test_an_administrator_uploads_a_word_template_and_sees_its_placeholders(api: Api) -> None:
    body = ok(put_raw(api, contract_docx(), pdf="true"))
    assert body["from_version"] == 1 and body["filename"] == "采购合同.docx"
    assert body["generate"] is True and body["pdf"] is True
    assert "party_b" in body["placeholders"] and "items.name" in body["placeholders"]
    assert body["unknown_placeholders"] == []
    shown = ok(api.as_(ADMIN).get(URL))
    assert shown["placeholders"] == body["placeholders"] and shown["sha256"] == body["sha256"]
    assert [v["from_version"] for v in shown["versions"]] == [1]
    file = api.as_(ADMIN).get(f"{URL}/file")
    assert file.status_code == 200 and file.content == contract_docx()
    assert file.headers["content-type"] == DOCX
    assert f"filename*=UTF-8''{quote('采购合同.docx')}" in file.headers["content-disposition"]


def test_a_multipart_upload_works_as_well(api: Api) -> None:
    files = {"file": ("合同模板.docx", contract_docx(), DOCX)}
    body = ok(api.as_(ADMIN).put(URL, files=files, params={"generate": "false"}))
    assert body["filename"] == "合同模板.docx" and body["generate"] is False


def test_placeholders_no_request_can_fill_are_pointed_out(api: Api) -> None:
    from tests.documents.conftest import make_docx

    data = make_docx(lambda d: d.add_paragraph("乙方：$party_b，$partyb，${approver.cfo.name}"))
    body = ok(put_raw(api, data))
    assert body["unknown_placeholders"] == ["approver.cfo.name", "partyb"]


def test_bad_templates_are_refused_with_the_reason(api: Api) -> None:
    refused(put_raw(api, b"not a zip at all"), 422, "docx_not_docx")
    refused(put_raw(api, contract_docx(), name="合同.docm"), 422, "docx_macros")
    refused(put_raw(api, contract_docx(), name="合同.doc"), 422, "docx_not_docx")
    malformed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(contract_docx())) as source,
        zipfile.ZipFile(malformed, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data.replace("乙方".encode(), b"${party b}", 1)
            target.writestr(item, data)
    refused(put_raw(api, malformed.getvalue()), 422, "placeholder_malformed")
    refused(api.as_(ADMIN).get(URL), 404, "unknown_document_template")  # nothing was stored


def test_an_upload_may_be_larger_than_an_ordinary_request(api: Api) -> None:
    """The API's requests are limited to 64 KiB here; a template's picture makes it more."""
    bigger = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(contract_docx())) as source,
        zipfile.ZipFile(bigger, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("word/media/logo.bin", os.urandom(200 * 1024))
    assert len(bigger.getvalue()) > 200 * 1024
    ok(put_raw(api, bigger.getvalue()))
    too_large = api.as_(ADMIN).post("/api/v1/templates/validate", content=b"x" * 100_000)
    assert too_large.status_code == 413


def test_only_administrators_upload_or_read_templates(api: Api) -> None:
    ok(put_raw(api, contract_docx()))
    hejun = api.as_("u-hejun")  # the template's own admin is no administrator
    refused(
        hejun.put(URL, content=contract_docx(), headers={"Content-Type": DOCX}), 403, "not_admin"
    )
    refused(hejun.get(URL), 403, "not_admin")
    refused(hejun.get(f"{URL}/file"), 403, "not_admin")


def test_a_request_s_documents_are_listed_and_downloaded_by_those_who_see_it(
    api: Api, seeded: Database
) -> None:
    instance_id = contract_with_documents(api, seeded)
    listed = ok(api.as_("u-zhangsan").get(f"/api/v1/instances/{instance_id}/documents"))
    assert [d["status"] for d in listed] == ["done"] and listed[0]["may_download"]
    response = api.as_("u-zhangsan").get(listed[0]["docx"])
    assert response.status_code == 200 and response.headers["content-type"] == DOCX
    assert response.content.startswith(b"PK")
    assert "attachment;" in response.headers["content-disposition"]
    for person in ("u-lina", "u-majun", "u-hejun", ADMIN):  # approvers, template admin
        assert api.as_(person).get(listed[0]["docx"]).status_code == 200, person
    refused(api.as_("u-wangwu").get(listed[0]["docx"]), 404, "unknown_instance")
    refused(
        api.as_("u-zhangsan").get(f"/api/v1/instances/{instance_id}/documents/doc-none"),
        404,
        "unknown_document",
    )
    refused(api.as_("u-zhangsan").get(listed[0]["docx"] + "?format=pdf"), 404, "unknown_document")


def test_an_approver_whose_node_hides_a_field_of_the_document_may_not_download_it(
    api: Api, seeded: Database
) -> None:
    document = json.loads((EXAMPLES / "templates" / "purchase_contract.json").read_text())
    committee = next(n for n in document["flow"]["nodes"] if n["id"] == "committee")
    committee["permissions"] = {"payment_terms": "hidden"}
    ok(api.as_(ADMIN).post("/api/v1/templates/purchase_contract/publish", json=document), 201)
    instance_id = contract_with_documents(api, seeded)
    listed = ok(api.as_("u-majun").get(f"/api/v1/instances/{instance_id}/documents"))
    assert listed[0]["may_download"] is False
    refused(api.as_("u-majun").get(listed[0]["docx"]), 403, "document_hidden_fields")
    assert api.as_("u-sunli").get(listed[0]["docx"]).status_code == 200  # finance sees it all
    assert api.as_("u-zhangsan").get(listed[0]["docx"]).status_code == 200


def test_designers_preview_a_template_against_a_running_request(api: Api, seeded: Database) -> None:
    ok(put_raw(api, contract_docx()))
    instance_id = approve_contract(seeded, api.clock, until="committee")
    api.clients.clear()  # the clock moved on: fresh access tokens
    url = f"/api/v1/instances/{instance_id}/document/preview"
    body = ok(api.as_("u-hejun").post(url))  # the template's admin
    assert "party_b" in body["placeholders"] and body["ok"] is False
    assert "instance.approved" in body["missing"]  # not approved yet
    assert "approver.committee.name" in body["missing"]
    assert "party_b" not in body["missing"]
    refused(api.as_("u-zhangsan").post(url), 403, "not_document_designer")
    refused(api.as_("u-wangwu").post(url), 404, "unknown_instance")


def test_a_document_uploaded_after_the_approval_is_made_on_request(
    api: Api, seeded: Database
) -> None:
    """The template's admin asks for it; it is queued, made by the worker, listed next to
    nothing before; asking again makes a second one and keeps the first."""
    instance_id = approve_contract(seeded, api.clock)
    assert relay_and_generate(seeded, api.clock) == 0  # no template when it was approved
    url = f"/api/v1/instances/{instance_id}/documents"
    refused(api.as_("u-hejun").post(url), 404, "unknown_document_template")
    ok(put_raw(api, contract_docx()))
    assert ok(api.as_("u-zhangsan").get(url)) == []
    pending = ok(api.as_("u-hejun").post(url), 202)
    assert pending["status"] == "pending" and pending["docx"] is None
    assert relay_and_generate(seeded, api.clock) == 1
    api.clients.clear()  # the clock moved on: fresh access tokens
    [made] = ok(api.as_("u-zhangsan").get(url))
    assert made["id"] == pending["id"] and made["status"] == "done"
    assert api.as_("u-zhangsan").get(made["docx"]).content.startswith(b"PK")
    again = ok(api.as_(ADMIN).post(url), 202)
    assert relay_and_generate(seeded, api.clock) == 1
    api.clients.clear()
    assert [d["id"] for d in ok(api.as_(ADMIN).get(url))] == [made["id"], again["id"]]
    assert again["filename"] == made["filename"]


def test_only_designers_make_documents_again_and_only_of_approved_requests(
    api: Api, seeded: Database
) -> None:
    ok(put_raw(api, contract_docx()))
    running = approve_contract(seeded, api.clock, until="committee")
    api.clients.clear()
    url = f"/api/v1/instances/{running}/documents"
    refused(api.as_("u-hejun").post(url), 409, "instance_not_approved")
    refused(api.as_("u-zhangsan").post(url), 403, "not_document_designer")
    refused(api.as_("u-wangwu").post(url), 404, "unknown_instance")
    assert ok(api.as_("u-zhangsan").get(url)) == []  # nothing was queued
