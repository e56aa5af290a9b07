"""Commands: what a person (or the system) asks an instance to do, in the imperative.

Each command names its actor. `Instance.execute(command, env)` checks it,
decides, and returns the events that happened; on any error nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveDraft(Command):
    form: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit(Command):
    """Submit (a saved draft or a new request). `serial` comes from the store's counter."""

    form: Mapping[str, Any]
    serial: str
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # applicant_choice


@dataclass(frozen=True, slots=True, kw_only=True)
class Approve(Command):
    task_id: str
    comment: str | None = None
    edits: Mapping[str, Any] = field(default_factory=dict)  # fields this node may write
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # for the next node(s)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Command):
    task_id: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(Command):
    """Send back: to the applicant (`to_node=None`) or to an earlier approver node."""

    task_id: str
    to_node: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resubmit(Command):
    form: Mapping[str, Any]
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw(Command):
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeBack(Command):
    """拿回: reopen one's own approval while nobody has acted after it."""

    task_id: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Command):
    """转办: the task becomes someone else's."""

    task_id: str
    to: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delegate(Command):
    """委派: someone else answers first, then the task comes back to the actor to decide."""

    task_id: str
    to: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddApprovers(Command):
    """加签: people who approve before or after the actor, in order, on the same node."""

    task_id: str
    people: tuple[str, ...]
    before: bool
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveApprover(Command):
    """减签: remove an added approver who has not acted yet (by whoever added them)."""

    task_id: str
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cc(Command):
    people: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddComment(Command):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Urge(Command):
    """催办: remind everyone whose turn it is (or the given tasks' assignees)."""

    task_ids: tuple[str, ...] = ()
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkRead(Command):
    task_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HandOver(Command):
    """Every open task of `from_person` (who left) goes to `to` (by an admin)."""

    from_person: str
    to: str


SYSTEM = "system"  # the actor of commands nobody typed (timers); its events have actor None


@dataclass(frozen=True, slots=True, kw_only=True)
class FireTimeout(Command):
    """The timer worker: a pending task's due time has passed; do the node's timeout action."""

    task_id: str
    actor: str = SYSTEM


@dataclass(frozen=True, slots=True, kw_only=True)
class Terminate(Command):
    """A template admin ends a running instance."""

    comment: str | None = None
