"""Documents of approved requests are made by the worker from the relayed outbox, once each,
outside the approval's transaction, and announced by a notice of their own."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import timedelta

import docx
import pytest
import sqlalchemy as sa

from signoff.api.app import create_app
from signoff.bootstrap import Services, build
from signoff.documents.generator import generate_documents_once
from signoff.documents.requested import documents_of, download
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.settings import Settings
from signoff.store import document_queue as queue
from signoff.store.database import Database
from signoff.store.schema import documents
from signoff.store.uow import SqlUnitOfWork
from tests.documents.conftest import body_text, make_docx
from tests.documents.stored import (
    ADMIN,
    approve_contract,
    approve_rest,
    notices,
    relay_and_generate,
    upload,
)
from tests.domain.conftest import example_json as example


def stored(db: Database) -> list[sa.Row[tuple[object, ...]]]:
    with db.reader() as conn:
        return list(conn.execute(sa.select(documents)))


def test_an_approved_contract_is_made_once_its_approval_is_relayed(
    seeded: Database, clock: ManualClock
) -> None:
    upload(seeded, clock)
    instance_id = approve_contract(seeded, clock)
    assert generate_documents_once(seeded, clock) == 0  # not relayed yet: nothing known
    assert relay_and_generate(seeded, clock) == 1
    [listed] = documents_of(SqlUnitOfWork(seeded), ADMIN, instance_id)
    assert listed["status"] == "done" and listed["filename"].startswith("采购合同-PC-")
    name, _, content = download(SqlUnitOfWork(seeded), ADMIN, instance_id, listed["id"])
    text = "\n".join(body_text(content))
    assert "某某供应商" in text and "陆拾万元整" in text and "$party" not in text
    [notice] = notices(seeded, "document.generated")
    assert notice.instance_id == instance_id and notice.position is not None
    assert notice.event_id == f"{instance_id}:doc:{listed['id']}"
    assert notice.data["filename"] == name and notice.data["status"] == "approved"
    assert "u-zhangsan" in notice.audience and "u-hejun" in notice.audience
    # the worker runs again and again: nothing more is made or announced
    assert relay_and_generate(seeded, clock) == 0
    assert len(stored(seeded)) == 1 and len(notices(seeded, "document.generated")) == 1


def test_a_request_still_running_gets_no_document(seeded: Database, clock: ManualClock) -> None:
    upload(seeded, clock)
    approve_contract(seeded, clock, until="committee")
    assert relay_and_generate(seeded, clock) == 0
    assert stored(seeded) == []


def test_a_template_that_does_not_generate_on_approval_makes_no_document(
    seeded: Database, clock: ManualClock
) -> None:
    upload(seeded, clock, generate=False)
    approve_contract(seeded, clock)
    assert relay_and_generate(seeded, clock) == 0
    assert stored(seeded) == []


def test_a_placeholder_without_a_value_fails_the_document_and_names_it(
    seeded: Database, clock: ManualClock
) -> None:
    def build(document: docx.document.Document) -> None:
        document.add_paragraph("甲方：$party_a，担保人：$guarantor，${approver.ceo.nickname}")

    upload(seeded, clock, make_docx(build))
    instance_id = approve_contract(seeded, clock)
    assert relay_and_generate(seeded, clock) == 1
    [row] = stored(seeded)
    assert row.status == "failed" and row.docx is None
    assert row.error["code"] == "placeholder_missing"
    assert row.error["placeholders"] == ["approver.ceo.nickname", "guarantor"]
    [notice] = notices(seeded, "document.failed")
    assert notice.data["placeholders"] == ["approver.ceo.nickname", "guarantor"]
    assert notice.audience == ["u-zhangsan", "u-hejun"]  # the applicant, the template's admin
    [listed] = documents_of(SqlUnitOfWork(seeded), ADMIN, instance_id)
    assert listed["docx"] is None and listed["error"]["code"] == "placeholder_missing"


def test_without_libreoffice_the_document_says_why_it_has_no_pdf(
    seeded: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNOFF_SOFFICE", "no-such-soffice-here")
    upload(seeded, clock, pdf=True)
    instance_id = approve_contract(seeded, clock)
    relay_and_generate(seeded, clock)
    [listed] = documents_of(SqlUnitOfWork(seeded), ADMIN, instance_id)
    assert listed["status"] == "done" and listed["pdf"] is None and listed["pdf_wanted"]
    assert listed["pdf_note"] == "LibreOffice (soffice) is not installed; only the .docx is made"
    [notice] = notices(seeded, "document.generated")
    assert notice.data["pdf_url"] is None and "not installed" in notice.data["pdf_note"]


def test_a_lease_that_runs_out_lets_another_worker_make_it_and_one_result_counts(
    seeded: Database, clock: ManualClock
) -> None:
    upload(seeded, clock)
    approve_contract(seeded, clock)
    relay_and_generate(seeded, clock)  # nothing was queued before the relay
    with seeded.writer() as conn:  # a worker claims it and dies before recording anything
        conn.execute(sa.delete(documents))
        conn.execute(sa.update(queue.document_state).values(position=0))
    with seeded.writer() as conn:
        assert queue.discover(conn, clock.now()) == 1
        [first] = queue.claim(conn, clock.now(), timedelta(minutes=5))
    assert generate_documents_once(seeded, clock) == 0  # leased: the other worker waits
    clock.advance(minutes=6)
    assert generate_documents_once(seeded, clock) == 1
    with seeded.writer() as conn:  # the first worker comes back: its result is not recorded
        assert not queue.finish(conn, first.id, {"status": "failed"})
    [row] = stored(seeded)
    assert row.status == "done" and row.attempts == 2


def test_a_document_template_applies_from_its_template_version_on(
    seeded: Database, clock: ManualClock
) -> None:
    old = approve_contract(seeded, clock, until="committee")  # on version 1
    with SqlUnitOfWork(seeded) as uow:
        uow.templates.publish(example("purchase_contract"), "u-huangli", clock.now())
        uow.commit()
    assert upload(seeded, clock).document.from_version == 2
    new = approve_contract(seeded, clock)  # on version 2
    approve_rest(seeded, clock, old)
    assert relay_and_generate(seeded, clock) == 1
    assert [r.instance_id for r in stored(seeded)] == [new]


def test_a_generated_contract_reads_back_with_every_value_in_place(
    seeded: Database, clock: ManualClock
) -> None:
    upload(seeded, clock)
    instance_id = approve_contract(seeded, clock)
    relay_and_generate(seeded, clock)
    [listed] = documents_of(SqlUnitOfWork(seeded), ADMIN, instance_id)
    _, media_type, content = download(SqlUnitOfWork(seeded), ADMIN, instance_id, listed["id"])
    assert media_type.endswith("wordprocessingml.document")
    table = docx.Document(io.BytesIO(content)).tables[0]
    assert [c.text for c in table.rows[1].cells][:2] == ["1", "服务器"]


def test_the_dispatcher_runs_the_document_step_of_the_app_and_the_worker(
    seeded: Database, clock: ManualClock
) -> None:
    ran = threading.Event()
    dispatcher = Dispatcher(seeded, clock, Settings(), steps=[ran.set])

    async def once() -> None:
        await dispatcher.start(work=True)
        try:
            await asyncio.wait_for(asyncio.to_thread(ran.wait, 10), 15)
        finally:
            await dispatcher.stop()

    asyncio.run(once())
    assert ran.is_set()
    services: Services = build(Settings(database_url=seeded.url), clock)
    app = create_app(services.settings, services)
    assert len(app.state.dispatcher.steps) == 1  # generate_documents_once
    services.db.dispose()
