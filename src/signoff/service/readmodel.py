"""Read models: what the read side answers (the store fills them in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

BOXES = ("pending", "done", "cc", "mine")


@dataclass(frozen=True, slots=True)
class InboxFilter:
    template_key: str | None = None
    status: str | None = None  # instance status
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxItem:
    instance_id: str
    template_key: str
    title: str
    serial: str | None
    status: str  # the instance's
    applicant_id: str
    at: datetime  # when it entered this box
    task_id: str | None = None
    node_id: str | None = None
    task_status: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[InboxItem]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    seq: int
    event_id: str
    type: str
    actor: str | None
    at: datetime
    from_status: str
    to_status: str
    data: dict[str, Any]


class Queries(Protocol):
    def inbox(
        self, person: str, box: str, where: InboxFilter, cursor: str | None, limit: int
    ) -> Page: ...

    def counts(self, person: str) -> dict[str, int]: ...

    def timeline(self, instance_id: str) -> list[TimelineEntry]: ...

    def principals(
        self, query: str | None, department_id: str | None, limit: int
    ) -> list[dict[str, Any]]: ...

    def departments(self) -> list[dict[str, Any]]: ...

    def roles(self) -> list[dict[str, Any]]: ...

    def positions(self) -> list[dict[str, Any]]: ...

    def pending_total(self) -> int: ...
