"""Use cases that change things: one function per command, one transaction each.

    outcome = act(uow, clock, instance_id, Approve(actor="u-lead", task_id=...),
                  idempotency_key="req-42")

Each function opens the unit of work once, loads (and locks) what it changes, lets
the domain decide, saves state + audit + outbox together and commits. An
idempotency key makes a retry return the first outcome without doing anything:
the key is checked after the instance row is locked, so concurrent retries are
serialised on the row; for a new request (nothing to lock yet) the key's primary
key settles the race and the loser answers with the winner's outcome.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from signoff.domain.commands import Command, HandOver, SaveDraft, Submit
from signoff.domain.errors import (
    Conflict,
    FormInvalid,
    IdempotencyKeyReused,
    Invalid,
    InvalidTransition,
    NotApplicant,
    Problem,
    SignoffError,
    VersionConflict,
)
from signoff.domain.events import (
    Event,
    InstanceApproved,
    InstanceResubmitted,
    InstanceSubmitted,
)
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import HookPolicy, Template
from signoff.service.access import access_instance
from signoff.service.auth import Caller
from signoff.service.ids import new_id
from signoff.service.ports import Clock, UnitOfWork, ValidationHooks

MAX_FORM_BYTES = 256 * 1024
log = logging.getLogger("signoff.service")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did: the instance's new version and status, the events it recorded,
    and who must act now."""

    instance_id: str
    version: int
    status: str
    events: tuple[str, ...]
    pending: tuple[tuple[str, str, str], ...]  # (task id, assignee, node id)

    @classmethod
    def of(cls, instance: Instance, events: list[Event]) -> Outcome:
        return cls(
            instance.id,
            instance.version,
            instance.status.value,
            tuple(e.id for e in events),
            tuple((t.id, t.assignee, t.node_id) for t in instance.pending_tasks()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "version": self.version,
            "status": self.status,
            "events": list(self.events),
            "pending": [list(p) for p in self.pending],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            data["instance_id"],
            data["version"],
            data["status"],
            tuple(data["events"]),
            tuple((p[0], p[1], p[2]) for p in data["pending"]),
        )


def command_hash(name: str, payload: object) -> str:
    """A stable fingerprint of a command, to tell a retry from a different command."""
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        payload = dataclasses.asdict(payload)
    text = json.dumps([name, payload], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _replayed(uow: UnitOfWork, actor: str, key: str | None, fingerprint: str) -> Outcome | None:
    if key is None:
        return None
    stored = uow.idempotency.get(actor, key)
    if stored is None:
        return None
    if stored.command_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was used for a different command", key=key
        )
    return Outcome.from_json(stored.response)


def _check_size(form: Mapping[str, Any]) -> None:
    """Forms have a size limit, and no text a database would refuse (NUL, lone surrogates)."""
    text = json.dumps(form, default=str, ensure_ascii=False)
    if "\x00" in text or "\\u0000" in text.replace("\\\\", ""):
        raise FormInvalid([Problem("", "type", "text must not contain NUL characters")])
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise FormInvalid(
            [Problem("", "type", "text must be valid Unicode (no lone surrogates)")]
        ) from None
    if size > MAX_FORM_BYTES:
        raise FormInvalid(
            [Problem("", "max_size", f"the form is {size} bytes; at most {MAX_FORM_BYTES}")]
        )


def act(
    uow: UnitOfWork,
    clock: Clock,
    instance_id: str,
    command: Command,
    *,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    viewer: Caller | None = None,
    hooks: ValidationHooks | None = None,
) -> Outcome:
    """Run a command on an existing instance. With a `viewer`, an instance they may not
    see is "not found" before anything else is checked."""
    fingerprint = command_hash(type(command).__name__, {"i": instance_id, "c": command})
    form = getattr(command, "form", None)
    if isinstance(form, Mapping):
        _check_size(form)
    with uow:
        if viewer is None:
            instance = uow.instances.get(instance_id, lock=True)
        else:
            instance = access_instance(uow, viewer, instance_id, lock=True)
        replay = _replayed(uow, command.actor, idempotency_key, fingerprint)
        if replay is not None:
            return replay
        if expected_version is not None and instance.version != expected_version:
            raise VersionConflict(
                f"instance {instance_id} is at version {instance.version}, not {expected_version}",
                instance_id=instance_id,
                version=instance.version,
                expected_version=expected_version,
            )
        if isinstance(command, Submit):
            command = _with_serial(uow, clock, instance.template, command)
        events = instance.execute(command, Env(clock.now(), uow.directory, uow.calendar.get()))
        _ask_hooks(hooks, instance, events, command.actor)
        if events:
            uow.instances.save(instance, events)
        outcome = Outcome.of(instance, events)
        _remember(uow, clock, command.actor, idempotency_key, fingerprint, outcome)
        uow.commit()
        return outcome


def _with_serial(uow: UnitOfWork, clock: Clock, template: Template, command: Submit) -> Submit:
    rule = template.settings.serial
    now = clock.now()
    serial = rule.format(now, uow.serials.next(rule.period(now)))
    return dataclasses.replace(command, serial=serial)


def _remember(
    uow: UnitOfWork,
    clock: Clock,
    actor: str,
    key: str | None,
    fingerprint: str,
    outcome: Outcome,
) -> None:
    if key is not None:
        uow.idempotency.put(
            actor, key, fingerprint, outcome.instance_id, outcome.to_json(), clock.now()
        )


def start(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    actor: str,
    template_key: str,
    form: Mapping[str, Any],
    choices: Mapping[str, tuple[str, ...]] | None = None,
    submit: bool = True,
    instance_id: str | None = None,
    idempotency_key: str | None = None,
    hooks: ValidationHooks | None = None,
) -> Outcome:
    """A new request on the newest version of a template: submitted, or saved as a draft."""
    _check_size(form)
    name = "Submit" if submit else "SaveDraft"
    fingerprint = command_hash(
        name, {"t": template_key, "f": form, "c": choices or {}, "i": instance_id}
    )
    try:
        return _start(
            uow_factory(),
            clock,
            actor,
            template_key,
            form,
            dict(choices or {}),
            submit,
            instance_id or new_id(),
            idempotency_key,
            fingerprint,
            hooks,
        )
    except Exception as error:
        if idempotency_key is None or not _is_duplicate_key(error):
            raise
        # another request with the same key won the race: answer with its outcome
        with uow_factory() as uow:
            replay = _replayed(uow, actor, idempotency_key, fingerprint)
        if replay is None:
            raise
        return replay


def _is_duplicate_key(error: Exception) -> bool:
    return type(error).__name__ == "IntegrityError"


def _start(
    uow: UnitOfWork,
    clock: Clock,
    actor: str,
    template_key: str,
    form: Mapping[str, Any],
    choices: dict[str, tuple[str, ...]],
    submit: bool,
    instance_id: str,
    key: str | None,
    fingerprint: str,
    hooks: ValidationHooks | None,
) -> Outcome:
    with uow:
        replay = _replayed(uow, actor, key, fingerprint)
        if replay is not None:
            return replay
        template = uow.templates.get(template_key)
        instance = Instance.new(instance_id, template, actor)
        command: Command
        if submit:
            command = _with_serial(
                uow, clock, template, Submit(actor=actor, form=form, serial="", choices=choices)
            )
        else:
            command = SaveDraft(actor=actor, form=form)
        events = instance.execute(command, Env(clock.now(), uow.directory, uow.calendar.get()))
        _ask_hooks(hooks, instance, events, actor)
        uow.instances.add(instance, events)
        outcome = Outcome.of(instance, events)
        _remember(uow, clock, actor, key, fingerprint, outcome)
        uow.commit()
        return outcome


def copy_request(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: str,
    instance_id: str,
    new_instance_id: str | None = None,
    viewer: Caller | None = None,
) -> Outcome:
    """复制: a finished request of the actor's, as a new draft on the newest template."""
    with uow:
        if viewer is None:
            source = uow.instances.get(instance_id, lock=False)
        else:
            source = access_instance(uow, viewer, instance_id)
        if source.applicant_id != actor:
            raise NotApplicant(
                f"only the applicant may copy {instance_id}", instance_id=instance_id
            )
        template = uow.templates.get(source.template.key)
        copy, events = Instance.copy_of(
            source,
            new_instance_id or new_id(),
            template,
            actor,
            Env(clock.now(), uow.directory, uow.calendar.get()),
        )
        uow.instances.add(copy, events)
        uow.commit()
        return Outcome.of(copy, events)


def hand_over(
    uow_factory: Callable[[], UnitOfWork], clock: Clock, *, actor: str, from_person: str, to: str
) -> list[Outcome | SignoffError]:
    """Every open task of someone who left goes to someone else: one transaction per
    instance, so a long hand-over never holds many locks. The caller checks that the
    actor is an administrator."""
    with uow_factory() as uow:
        ids = uow.instances.with_open_tasks_of(from_person)
    outcomes: list[Outcome | SignoffError] = []
    for instance_id in ids:
        command = HandOver(actor=actor, from_person=from_person, to=to)
        try:
            outcomes.append(act(uow_factory(), clock, instance_id, command))
        except InvalidTransition:
            continue  # finished in the meantime
        except SignoffError as error:  # e.g. the successor already holds a task there
            outcomes.append(error)
    return outcomes


class ValidationRefused(Invalid):
    """The template's validation hook (an app) refused; its message is for the person."""

    code = "validation_refused"


class ValidationUnavailable(Conflict):
    """The validation hook did not answer and the template says to refuse then."""

    code = "validation_unavailable"


def _ask_hooks(
    hooks: ValidationHooks | None, instance: Instance, events: list[Event], actor: str
) -> None:
    """The template's validation hook, asked inside the command's transaction once the
    domain has decided: a refusal rolls the submission or final approval back."""
    if hooks is None or instance.template.settings.validation is None:
        return
    if any(isinstance(e, (InstanceSubmitted, InstanceResubmitted)) for e in events):
        _validate(hooks, instance.template, "submit", instance, actor)
    if any(isinstance(e, InstanceApproved) for e in events):
        _validate(hooks, instance.template, "final_approval", instance, actor)


def _validate(
    hooks: ValidationHooks, template: Template, moment: str, instance: Instance, actor: str
) -> None:
    hook = template.settings.validation
    if hook is None or not (hook.on_submit if moment == "submit" else hook.on_final_approval):
        return
    payload = {
        "moment": moment,
        "template": template.key,
        "template_version": template.version,
        "instance_id": instance.id,
        "applicant": instance.applicant_id,
        "actor": actor,
        "form": instance.form,
    }
    answer = hooks.ask(hook, moment, payload)
    if answer.error is not None:
        if hook.on_error is HookPolicy.PROCEED:
            log.warning(
                "validation hook of %s failed (%s); going on as the template says",
                template.key,
                answer.error,
                extra={"instance_id": instance.id, "moment": moment},
            )
            return
        raise ValidationUnavailable(
            f"the check of {template.key} did not answer ({answer.error}); try again later",
            template_key=template.key,
        )
    if not answer.allowed:
        raise ValidationRefused(answer.message or "refused by the business system", moment=moment)
