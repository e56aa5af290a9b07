"""Helpers for the tests of documents made from stored requests: a purchase contract approved
through the service layer, a template's .docx uploaded, the worker's steps driven by hand."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from signoff.documents.generator import generate_documents_once
from signoff.documents.library import TemplateInfo, upload_template
from signoff.domain.commands import Approve
from signoff.events.dispatcher import Dispatcher
from signoff.service.auth import Caller
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.settings import Settings
from signoff.store.database import Database
from signoff.store.schema import outbox
from signoff.store.uow import SqlUnitOfWork
from tests.documents.conftest import CONTRACT_FORM, FIXTURES

ADMIN = Caller("u-huangli", is_admin=True)


def contract_docx() -> bytes:
    """The LibreOffice-built contract template (tests/documents/fixtures/build.sh)."""
    return (FIXTURES / "contract.docx").read_bytes()


def approve_contract(
    db: Database, clock: ManualClock, form: dict[str, Any] | None = None, *, until: str = ""
) -> str:
    """A purchase contract of 张三's, approved by everyone in turn (法务 comments), or
    approved up to the node `until` (not included). Returns the instance id."""
    outcome = start(
        lambda: SqlUnitOfWork(db),
        clock,
        actor="u-zhangsan",
        template_key="purchase_contract",
        form=form or CONTRACT_FORM,
        choices={"legal": ("u-gaomin",)},
    )
    while outcome.status == "pending":
        task_id, assignee, node_id = sorted(outcome.pending)[0]
        if node_id == until:
            break
        clock.advance(minutes=7)
        comment = "条款已审" if node_id == "legal" else None
        command = Approve(actor=assignee, task_id=task_id, comment=comment)
        outcome = act(SqlUnitOfWork(db), clock, outcome.instance_id, command)
    return outcome.instance_id


def approve_rest(db: Database, clock: ManualClock, instance_id: str) -> None:
    """Approve a running request to the end, first pending task first."""
    with SqlUnitOfWork(db) as uow:
        pending = uow.instances.get(instance_id, lock=False).pending_tasks()
    while pending:
        task = sorted(pending, key=lambda t: t.id)[0]
        command = Approve(actor=task.assignee, task_id=task.id, comment="好")
        act(SqlUnitOfWork(db), clock, instance_id, command)
        with SqlUnitOfWork(db) as uow:
            pending = uow.instances.get(instance_id, lock=False).pending_tasks()


def upload(
    db: Database,
    clock: ManualClock,
    data: bytes | None = None,
    *,
    key: str = "purchase_contract",
    **settings: Any,
) -> TemplateInfo:
    return upload_template(
        SqlUnitOfWork(db), clock, ADMIN, key, data or contract_docx(), "采购合同.docx", **settings
    )


def relay_and_generate(db: Database, clock: ManualClock) -> int:
    """What the dispatcher does every second: relay the outbox, then make documents; then
    relay again (the documents' own notices)."""
    dispatcher = Dispatcher(db, clock, Settings())
    dispatcher.relay_once()
    made = generate_documents_once(db, clock)
    dispatcher.relay_once()
    return made


def notices(db: Database, kind: str) -> list[Any]:
    with db.reader() as conn:
        return list(conn.execute(sa.select(outbox).where(outbox.c.type == kind)))
