"""E-mail: people who are not in the app get one digest of their new tasks after the
batch window, never one mail per task; people online, or without an address, get none;
an SMTP server that is away means a retry later.

The SMTP server is real (`aiosmtpd` on 127.0.0.1) and collects what it is sent."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from signoff.domain.mirror import (
    ExternalDecision,
    ExternalStatus,
    ExternalStep,
    MirrorExternal,
    Verdict,
)
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.service.commands import start
from signoff.service.directory_import import import_directory
from signoff.service.mirror import mirror_external
from signoff.store.database import Database
from signoff.store.outbox import set_presence
from signoff.store.schema import deliveries, outbox, principals
from signoff.store.uow import SqlUnitOfWork
from tests.conftest import EXAMPLES
from tests.events.conftest import LEAVE, approve_next, at_once, rows, settings, submit_leave

BATCH = 60  # seconds new-task mails wait to be batched


@dataclass
class Inbox:
    """What the SMTP server received: one entry per mail, parsed, with its recipients."""

    port: int = 0
    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.mails if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def mailer(db: Database, clock: ManualClock, port: int, **overrides: Any) -> Dispatcher:
    config = settings(smtp_host="127.0.0.1", smtp_port=port, mail_batch_seconds=BATCH, **overrides)
    return Dispatcher(db, clock, config)


def mail_deliveries(db: Database, person: str | None = None) -> list[Any]:
    where = [deliveries.c.sink == "mail"]
    if person is not None:
        where.append(deliveries.c.target == person)
    return sorted(rows(db, deliveries, *where), key=lambda r: r.id)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()  # type: ignore[attr-defined]  # EmailMessage under policy.default
    return text


def forget_email(db: Database, person: str) -> None:
    """The directory is imported again with `person` having no e-mail address."""
    directory = json.loads((EXAMPLES / "directory.json").read_text())
    for entry in directory["principals"]:
        if entry["id"] == person:
            entry.pop("email", None)
    report = import_directory(SqlUnitOfWork(db), ("directory.json", json.dumps(directory)))
    assert report.applied, report.rejected
    assert [p.email for p in rows(db, principals, principals.c.id == person)] == [None]


def test_thirty_new_tasks_become_one_digest_after_the_batch_window(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    outcomes = [submit_leave(seeded, clock) for _ in range(30)]
    assert {o.pending[0][1] for o in outcomes} == {"u-chenjie"}
    dispatcher.relay_once()
    assert dispatcher.deliver_mail_once() == 0  # the window is still open
    clock.advance(seconds=BATCH - 1)
    assert dispatcher.deliver_mail_once() == 0
    assert smtp.mails == []
    clock.advance(seconds=1)
    assert dispatcher.deliver_mail_once() == 1
    assert len(smtp.mails) == 1
    (digest,) = smtp.to("chenjie@acme.example")
    assert "30" in digest["Subject"]
    text = body(digest)
    assert text.count("新的待审批") == 30
    for outcome in outcomes:
        assert f"/#/requests/{outcome.instance_id}" in text
    assert {d.status for d in mail_deliveries(seeded)} == {"delivered"}
    assert {d.target for d in mail_deliveries(seeded)} == {"u-chenjie"}  # the applicant: none
    assert dispatcher.deliver_mail_once() == 0  # sent once
    assert len(smtp.mails) == 1


def test_a_task_arriving_during_the_window_joins_the_digest_of_the_earlier_ones(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    clock.advance(seconds=BATCH - 10)
    submit_leave(seeded, clock, applicant="u-zhangsan")
    dispatcher.relay_once()
    clock.advance(seconds=10)  # the first task's window closes; the second's is still open
    assert dispatcher.deliver_mail_once() == 1
    (digest,) = smtp.to("chenjie@acme.example")
    assert body(digest).count("新的待审批") == 2


def test_someone_online_in_the_app_gets_no_mail_and_their_mails_count_as_delivered(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)
    with seeded.writer() as conn:  # a server node has a socket of theirs open now
        set_presence(conn, "node-b", ["u-chenjie"], clock.now())
    assert dispatcher.deliver_mail_once() == 0
    assert smtp.mails == []
    assert [d.status for d in mail_deliveries(seeded, "u-chenjie")] == ["delivered"]


def test_someone_who_left_the_app_a_while_ago_gets_mail_again(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    with seeded.writer() as conn:
        set_presence(conn, "node-b", ["u-chenjie"], clock.now())
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)  # that presence row was not renewed: they are gone
    assert dispatcher.deliver_mail_once() == 1
    assert len(smtp.to("chenjie@acme.example")) == 1


def test_someone_without_an_email_address_gets_no_mail(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    forget_email(seeded, "u-chenjie")
    dispatcher = mailer(seeded, clock, smtp.port)
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)
    assert dispatcher.deliver_mail_once() == 0
    assert smtp.mails == []
    assert mail_deliveries(seeded) == []
    assert rows(seeded, outbox, outbox.c.type == "task.assigned")  # the notice itself exists


def test_tasks_of_a_request_mirrored_from_wecom_are_not_mailed(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    """Its approvers act in WeCom and WeCom tells them; a mail from Signoff would send them
    to a page where they cannot act."""
    dispatcher = mailer(seeded, clock, smtp.port)
    waiting = ExternalStep(
        "requesting_head", Verdict.PENDING, (ExternalDecision("u-lina", Verdict.PENDING),)
    )
    mirrored = mirror_external(
        lambda: SqlUnitOfWork(seeded),
        clock,
        MirrorExternal(
            source="wecom:ww-acme",
            external_id="202611230001",
            applicant="u-zhangsan",
            submitted_at=clock.now(),
            status=ExternalStatus.PENDING,
            steps=(waiting,),
        ),
        template_key="purchase_contract",
    )
    assert [a for _, a, _ in mirrored.pending] == ["u-lina"]
    submit_leave(seeded, clock, applicant="u-lina")  # a native task for u-lina's head
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)
    assert dispatcher.deliver_mail_once() == 1
    assert smtp.to("lina@acme.example") == []
    assert {d.target for d in mail_deliveries(seeded)} == {"u-zhouming"}


def test_someone_whose_address_was_removed_while_their_mail_waited_gets_none(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    submit_leave(seeded, clock)
    dispatcher.relay_once()
    forget_email(seeded, "u-chenjie")
    clock.advance(seconds=BATCH)
    assert dispatcher.deliver_mail_once() == 0
    assert smtp.mails == []
    assert [d.status for d in mail_deliveries(seeded)] == ["delivered"]


def test_while_the_smtp_server_is_away_mail_waits_and_is_sent_on_a_later_try(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    away = mailer(seeded, clock, free_port(), retry_base_seconds=30)
    submit_leave(seeded, clock)
    second = submit_leave(seeded, clock)
    away.relay_once()
    clock.advance(seconds=BATCH)
    assert away.deliver_mail_once() == 0
    waiting = mail_deliveries(seeded)
    assert len(waiting) == 2
    for d in waiting:
        assert (d.status, d.attempts) == ("pending", 1)
        assert "Connection" in d.last_error or "refused" in d.last_error.lower()
        assert d.next_attempt_at == clock.now() + away.retry_base
    back = mailer(seeded, clock, smtp.port, retry_base_seconds=30)
    assert back.deliver_mail_once() == 0  # not due again yet
    clock.advance(seconds=30)
    assert back.deliver_mail_once() == 1
    (digest,) = smtp.to("chenjie@acme.example")
    assert body(digest).count("新的待审批") == 2
    assert second.instance_id in body(digest)
    assert {d.status for d in mail_deliveries(seeded)} == {"delivered"}


def test_each_person_gets_one_digest_of_their_own_tasks(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    dispatcher = mailer(seeded, clock, smtp.port)
    first = submit_leave(seeded, clock)
    approve_next(seeded, clock, first)  # u-lina's turn now
    submit_leave(seeded, clock, applicant="u-liuyang")  # a team lead: u-lina is their head
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)
    assert dispatcher.deliver_mail_once() == 2  # u-chenjie, u-lina: one digest each
    assert len(smtp.to("chenjie@acme.example")) == 1
    (digest,) = smtp.to("lina@acme.example")
    assert body(digest).count("新的待审批") == 2


def test_a_title_with_a_line_break_does_not_stop_anyones_mail(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    # a template whose title shows the (multi-line) reason: a single-task mail's subject
    definition = json.loads((EXAMPLES / "templates" / "leave.json").read_text())
    definition["key"] = "leave_reason_titled"  # its own key: templates are cached by version
    definition["settings"]["title"] = "{applicant.name}：{form.reason}"
    with SqlUnitOfWork(seeded) as uow:
        uow.templates.publish(definition, "u-huangli", clock.now())
        uow.commit()
    dispatcher = mailer(seeded, clock, smtp.port)
    start(
        lambda: SqlUnitOfWork(seeded),
        clock,
        actor="u-zhangsan",
        template_key="leave_reason_titled",
        form={**LEAVE, "reason": "家里有事\r\n需要回老家"},
    )
    submit_leave(seeded, clock, applicant="u-wangwu")  # u-liuyang's task
    dispatcher.relay_once()
    clock.advance(seconds=BATCH)
    assert dispatcher.deliver_mail_once() == 2
    (lead,) = smtp.to("chenjie@acme.example")
    assert "\n" not in lead["Subject"] and "家里有事" in lead["Subject"]
    assert len(smtp.to("liuyang@acme.example")) == 1
    assert {d.status for d in mail_deliveries(seeded)} == {"delivered"}


def test_two_workers_sending_at_once_send_one_digest(
    seeded: Database, clock: ManualClock, smtp: Inbox
) -> None:
    workers = [mailer(seeded, clock, smtp.port) for _ in range(3)]
    for _ in range(10):
        submit_leave(seeded, clock)
    workers[0].relay_once()
    clock.advance(seconds=BATCH)
    sent = at_once(workers, lambda w: w.deliver_mail_once())
    assert sorted(sent) == [0, 0, 1]
    (digest,) = smtp.to("chenjie@acme.example")
    assert body(digest).count("新的待审批") == 10
