"""E-mail for people who are not online: one digest per person, never one mail per task.

New tasks, timeout reminders and urges wait `mail_batch_seconds` in the outbox's
deliveries; then all of a person's waiting mails go out as one message ("3 new approval
tasks"). A person with an open WebSocket on any node (a fresh `presence` row) gets no
mail: they have seen it in the app.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

SUBJECTS = {
    "task.assigned": ("新的待审批", "new approval task"),
    "task.timed_out": ("审批提醒", "reminder"),
    "instance.urged": ("催办", "urged"),
}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    user: str
    password: str
    starttls: bool
    sender: str
    public_url: str


def _line(text: str) -> str:
    """One header-safe line: titles come from form fields and may hold line breaks."""
    return " ".join(str(text).split())


def digest(to_name: str, to_email: str, rows: list[Any], config: SmtpConfig) -> EmailMessage:
    """One message listing every notice in `rows` (outbox rows), oldest first."""
    n = len(rows)
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = f"{_line(to_name)} <{_line(to_email)}>"
    if n == 1:
        zh, en = SUBJECTS.get(rows[0].type, ("审批通知", "notice"))
        message["Subject"] = f"[Signoff] {zh}: {_line(rows[0].data.get('title', ''))} ({en})"
    else:
        message["Subject"] = f"[Signoff] 您有 {n} 条审批通知 ({n} approval notices)"
    lines = [f"{to_name}，您好 / Hello {to_name},", ""]
    base = config.public_url.rstrip("/")
    for row in rows:
        zh, en = SUBJECTS.get(row.type, ("审批通知", "notice"))
        title = row.data.get("title") or row.instance_id
        lines.append(f"- {zh} ({en}): {title}")
        lines.append(f"  {base}/#/requests/{row.instance_id}")
    lines += ["", "— Signoff"]
    message.set_content("\n".join(lines))
    return message


def send(message: EmailMessage, config: SmtpConfig, timeout: float = 20) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.user:
            smtp.login(config.user, config.password)
        smtp.send_message(message)
