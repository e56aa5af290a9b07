"""What every command route shares: who calls, the If-Match version, the Idempotency-Key,
running the command on one instance, counting it in the metrics, and the answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Response

from signoff.api.deps import CallerDep, IdempotencyDep, ServicesDep, VersionDep
from signoff.api.models import OutcomeOut
from signoff.bootstrap import Services
from signoff.domain.commands import Command
from signoff.domain.errors import SignoffError
from signoff.service.auth import Caller
from signoff.service.commands import Outcome, act


def outcome_out(outcome: Outcome) -> OutcomeOut:
    return OutcomeOut(
        instance_id=outcome.instance_id,
        version=outcome.version,
        status=outcome.status,
        events=list(outcome.events),
        pending=[{"task_id": t, "assignee": a, "node_id": n} for t, a, n in outcome.pending],
    )


def choices(raw: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in raw.items()}


@contextmanager
def counted(svc: Services, name: str) -> Iterator[None]:
    """Count one command in `signoff_actions_total`, by its outcome."""
    try:
        yield
    except SignoffError as error:
        svc.observe_action(name, error.code)
        raise
    svc.observe_action(name, "ok")


@dataclass(frozen=True, slots=True)
class CommandContext:
    svc: Services
    who: Caller
    version: int | None  # If-Match
    key: str | None  # Idempotency-Key
    response: Response

    @property
    def person(self) -> str:
        return self.who.require_person()

    def run(self, instance_id: str, command: Command) -> OutcomeOut:
        """One command on one instance, as the caller sees it; the new version in the ETag."""
        with counted(self.svc, type(command).__name__):
            outcome = act(
                self.svc.uow(),
                self.svc.clock,
                instance_id,
                command,
                expected_version=self.version,
                idempotency_key=self.key,
                viewer=self.who,
                hooks=self.svc.hooks,
            )
        self.response.headers["ETag"] = f'"{outcome.version}"'
        return outcome_out(outcome)


def command_context(
    svc: ServicesDep, who: CallerDep, version: VersionDep, key: IdempotencyDep, response: Response
) -> CommandContext:
    return CommandContext(svc, who, version, key, response)


CommandDep = Annotated[CommandContext, Depends(command_context)]
