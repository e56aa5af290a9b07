"""The request page lists the documents of an approved request (the contract made from the
template's Word document by the server's worker) and downloads them; administrators make
one again; a request mirrored from WeCom says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from signoff.domain.mirror import (
    ExternalDecision,
    ExternalStatus,
    ExternalStep,
    MirrorExternal,
    Verdict,
)
from signoff.service.clock import SystemClock
from signoff.service.mirror import mirror_external
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork
from tests.documents.conftest import CONTRACT_FORM, FIXTURES
from tests.web.conftest import NewPage
from tests.web.support import Server

ADMIN = "u-huangli"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def upload_contract_template(server: Server) -> None:
    with server.client(ADMIN) as client:
        response = client.put(
            "templates/purchase_contract/document",
            content=(FIXTURES / "contract.docx").read_bytes(),
            params={"filename": "采购合同.docx"},
            headers={"Content-Type": DOCX},
        )
    assert response.status_code == 200, response.text


def approved_contract(server: Server) -> str:
    """A purchase contract of 张三's, approved by every approver in turn through the API."""
    body = {
        "template_key": "purchase_contract",
        "form": CONTRACT_FORM,
        "choices": {"legal": ["u-gaomin"]},
    }
    instance_id = str(server.call("u-zhangsan", "POST", "instances", json=body)["instance_id"])
    view: dict[str, Any] = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    while view["pending"]:
        task = sorted(view["pending"], key=lambda t: t["id"])[0]
        body = {"comment": "条款已审"}  # 法务 must comment
        server.call(task["assignee"], "POST", f"tasks/{task['id']}/approve", json=body)
        view = server.call("u-zhangsan", "GET", f"instances/{instance_id}")
    assert view["status"] == "approved"
    return instance_id


def test_the_contract_of_an_approved_request_is_listed_and_downloaded(
    new_page: NewPage, server: Server
) -> None:
    upload_contract_template(server)
    instance_id = approved_contract(server)
    page = new_page("u-zhangsan", path=f"#/requests/{instance_id}")
    documents = page.locator(".card").filter(has=page.get_by_role("heading", name="Documents"))
    item = documents.locator('[data-status="done"]')  # the worker makes it within seconds
    expect(item).to_contain_text("采购合同-")
    expect(item).to_contain_text("Ready")
    with page.expect_download() as caught:
        item.get_by_role("button", name="Download").first.click()
    download = caught.value
    assert download.suggested_filename.endswith(".docx")
    assert Path(download.path()).read_bytes().startswith(b"PK")
    # the applicant may not make it again: no button
    expect(documents.get_by_role("button", name="Make it again")).to_have_count(0)


def test_an_administrator_makes_the_document_again_and_sees_it_arrive(
    new_page: NewPage, server: Server
) -> None:
    upload_contract_template(server)
    instance_id = approved_contract(server)
    page = new_page(ADMIN, path=f"#/requests/{instance_id}", locale="zh-CN")
    documents = page.locator(".card").filter(has=page.get_by_role("heading", name="文档"))
    expect(documents.locator('[data-status="done"]')).to_have_count(1)
    documents.get_by_role("button", name="重新生成").click()
    # the new one appears (pending, then made by the worker; the page updates live)
    expect(documents.locator('[data-status="done"]')).to_have_count(2)
    listed = server.call(ADMIN, "GET", f"instances/{instance_id}/documents")
    assert [d["status"] for d in listed] == ["done", "done"]


def test_a_request_mirrored_from_wecom_says_where_it_is_decided(
    new_page: NewPage, server: Server
) -> None:
    mirrored = mirrored_request(server)
    page = new_page("u-zhangsan", path=f"#/requests/{mirrored}")
    expect(page.locator(".mirrored")).to_contain_text("Mirrored from WeCom")
    expect(page.locator(".mirrored")).to_contain_text("202611230042")


def mirrored_request(server: Server) -> str:
    """An instance mirroring a WeCom approval, as the callback would make it (through the
    running server's database: the callback's crypto is tested in tests/integrations)."""
    waiting = ExternalStep(
        "requesting_head", Verdict.PENDING, (ExternalDecision("u-lina", Verdict.PENDING),)
    )
    db = Database(server.database_url)
    try:
        outcome = mirror_external(
            lambda: SqlUnitOfWork(db),
            SystemClock(),
            MirrorExternal(
                source="wecom:ww-acme",
                external_id="202611230042",
                applicant="u-zhangsan",
                submitted_at=datetime.now(UTC),
                status=ExternalStatus.PENDING,
                steps=(waiting,),
            ),
            template_key="purchase_contract",
        )
    finally:
        db.dispose()
    return outcome.instance_id
