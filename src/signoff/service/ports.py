"""What the service layer needs from persistence, as protocols the store implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from signoff.domain.calendar import WorkingCalendar
from signoff.domain.directory import Department, Directory, Principal
from signoff.domain.events import Event
from signoff.domain.instance import Instance
from signoff.domain.templates import Template, ValidationHook
from signoff.service.readmodel import Queries


class Clock(Protocol):
    def now(self) -> datetime: ...


class InstanceRepository(Protocol):
    def get(self, instance_id: str, *, lock: bool = True) -> Instance:
        """The instance, its row locked for this transaction when `lock` (UnknownInstance)."""
        ...

    def add(self, instance: Instance, events: Sequence[Event]) -> None:
        """A new instance with its first events (audit + outbox rows in the same transaction)."""
        ...

    def save(self, instance: Instance, events: Sequence[Event]) -> None:
        """Write the changed instance, checking the version it was loaded at (VersionConflict)."""
        ...

    def with_open_tasks_of(self, principal_id: str) -> list[str]:
        """Ids of instances where the person holds a waiting or pending task."""
        ...


class TemplateRepository(Protocol):
    def get(self, key: str, version: int | None = None) -> Template:
        """A published version, the newest when `version` is None (UnknownTemplate)."""
        ...

    def publish(self, definition: dict[str, Any], by: str | None, at: datetime) -> Template: ...

    def save_draft(self, definition: dict[str, Any], by: str | None, at: datetime) -> None: ...

    def get_draft(self, key: str) -> dict[str, Any] | None: ...

    def summaries(self) -> list[TemplateSummary]: ...


@dataclass(frozen=True, slots=True)
class TemplateSummary:
    key: str
    name: str
    version: int
    published_at: datetime
    has_draft: bool


class SerialCounter(Protocol):
    def next(self, period: str) -> int:
        """The next number of this period's counter (1, 2, ...), in this transaction."""
        ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    command_hash: str
    response: dict[str, Any]


class IdempotencyStore(Protocol):
    def get(self, actor: str, key: str) -> StoredResponse | None: ...

    def put(
        self,
        actor: str,
        key: str,
        command_hash: str,
        instance_id: str | None,
        response: dict[str, Any],
        at: datetime,
    ) -> None: ...


class DirectoryStore(Directory, Protocol):
    """The directory as the engine reads it, plus what an import needs."""

    def all_departments(self) -> list[Department]: ...

    def principal_ids(self) -> set[str]: ...

    def identity_owners(self) -> dict[str, str]: ...

    def by_identity(self, identity: str) -> str | None: ...

    def upsert(self, depts: Sequence[Department], people: Sequence[Principal]) -> None: ...


@dataclass(frozen=True, slots=True)
class Account:
    principal_id: str
    password_hash: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class App:
    """A business system that integrates through API keys."""

    id: str
    name: str
    key_prefix: str  # the first characters of its key, to recognise it
    created_at: datetime
    revoked_at: datetime | None
    templates: frozenset[str]  # template keys it owns
    acts_as: str | None = None  # the principal whose tasks it may act on (callbacks in)


class AccountStore(Protocol):
    def get_account(self, principal_id: str) -> Account | None: ...

    def set_account(
        self, principal_id: str, password_hash: str, is_admin: bool, at: datetime
    ) -> None: ...

    def admins(self) -> set[str]: ...

    def add_refresh(self, token_hash: str, principal_id: str, expires_at: datetime) -> None: ...

    def use_refresh(self, token_hash: str, now: datetime) -> str | None: ...

    def add_app(
        self,
        app_id: str,
        name: str,
        key_hash: str,
        prefix: str,
        at: datetime,
        acts_as: str | None = None,
    ) -> None: ...

    def app_by_key(self, key_hash: str) -> App | None: ...

    def get_app(self, app_id: str) -> App | None: ...

    def list_apps(self) -> list[App]: ...

    def revoke_app(self, app_id: str, at: datetime) -> bool: ...

    def grant_template(self, app_id: str, template_key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class HookAnswer:
    """What a template's validation hook said: allowed or not (with the message the person
    sees), or `error` when it did not answer properly (timeout, 5xx, not JSON)."""

    allowed: bool
    message: str = ""
    error: str | None = None


class ValidationHooks(Protocol):
    def ask(self, hook: ValidationHook, moment: str, payload: dict[str, Any]) -> HookAnswer:
        """POST the payload to the hook's URL and read its answer (never raises)."""
        ...


class CalendarStore(Protocol):
    def get(self) -> WorkingCalendar | None:
        """The work calendar timeouts count working time in (None: none is set)."""
        ...

    def document(self) -> dict[str, Any] | None: ...

    def put(self, calendar: WorkingCalendar, by: str | None, at: datetime) -> None: ...


class ExternalLinks(Protocol):
    """Which instance mirrors which request of another system (signoff.domain.mirror)."""

    def get(self, source: str, external_id: str) -> str | None: ...

    def add(
        self, source: str, external_id: str, instance_id: str, app_id: str | None, at: datetime
    ) -> None:
        """Link them; the store refuses a second link of the same request (a race lost)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. `with uow:` begins it; `commit()` ends it; leaving without commit
    rolls back."""

    @property
    def instances(self) -> InstanceRepository: ...

    @property
    def templates(self) -> TemplateRepository: ...

    @property
    def serials(self) -> SerialCounter: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def directory(self) -> DirectoryStore: ...

    @property
    def accounts(self) -> AccountStore: ...

    @property
    def queries(self) -> Queries: ...

    @property
    def calendar(self) -> CalendarStore: ...

    @property
    def external_links(self) -> ExternalLinks: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
