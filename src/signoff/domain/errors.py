"""The error tree of Signoff.

Every error raised by Signoff derives from `SignoffError`, carries a stable
machine-readable `code` (documented, never reworded), a human message, and the
ids it concerns in `details`. The HTTP status is chosen from the error's
*kind* (the direct subclass of `SignoffError` it belongs to) in one table at the
edge; nothing in the domain knows about HTTP.

    SignoffError
      Invalid            bad input: a form, a template, a command's arguments
      NotFound           an id that does not exist (in this instance, template, directory)
      Forbidden          the actor may not do this
      Conflict           the state does not allow it now (finished, already decided, version)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (a field or JSON path), which rule, and why."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule} — {self.message}" if self.path else self.message


class SignoffError(Exception):
    """Root of every Signoff error."""

    code: ClassVar[str] = "signoff_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


# ---- kinds ---------------------------------------------------------------------------


class Invalid(SignoffError):
    """Input that can never be accepted as it is."""

    code = "invalid"

    def __init__(self, message: str, problems: list[Problem] | None = None, **details: object):
        super().__init__(message, **details)
        self.problems: list[Problem] = problems or []


class NotFound(SignoffError):
    code = "not_found"


class Forbidden(SignoffError):
    code = "forbidden"


class Conflict(SignoffError):
    code = "conflict"


# ---- invalid input -------------------------------------------------------------------


def _summary(problems: list[Problem], limit: int = 3) -> str:
    shown = "; ".join(str(p) for p in problems[:limit])
    more = len(problems) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


class FormInvalid(Invalid):
    """Form values break the template's form rules; `problems` names each field path."""

    code = "form_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the form has {len(problems)} problem(s): {_summary(problems)}", problems)


class TemplateInvalid(Invalid):
    """A template definition is malformed; `problems` names each JSON path."""

    code = "template_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            f"the template has {len(problems)} problem(s): {_summary(problems)}", problems
        )


class CommandInvalid(Invalid):
    """A command's arguments are malformed (empty comment where one is required, ...)."""

    code = "command_invalid"


class ChoiceRequired(Invalid):
    """A node's approvers must be chosen (by the applicant or previous approver) and were not."""

    code = "choice_required"


class CommentRequired(Invalid):
    code = "comment_required"


# ---- not found -----------------------------------------------------------------------


class UnknownTemplate(NotFound):
    code = "unknown_template"


class UnknownInstance(NotFound):
    code = "unknown_instance"


class UnknownTask(NotFound):
    code = "unknown_task"


class UnknownNode(NotFound):
    code = "unknown_node"


class UnknownPrincipal(NotFound):
    code = "unknown_principal"


class UnknownDepartment(NotFound):
    code = "unknown_department"


# ---- forbidden -----------------------------------------------------------------------


class NotAssignee(Forbidden):
    """The actor does not hold this task."""

    code = "not_assignee"


class NotApplicant(Forbidden):
    code = "not_applicant"


class NotInitiator(Forbidden):
    """The template's settings do not let this person start it."""

    code = "not_initiator"


class NotParticipant(Forbidden):
    """Only the applicant, people who hold or held a task, and people CC'd may do this."""

    code = "not_participant"


class NotTemplateAdmin(Forbidden):
    code = "not_template_admin"


class FieldNotWritable(Forbidden):
    """An approver tried to edit a field their node may not write."""

    code = "field_not_writable"


class ActionNotAllowed(Forbidden):
    """The template or node settings switch this action off."""

    code = "action_not_allowed"


class ExternallyDecided(Forbidden):
    """The request is mirrored from another system (WeCom, ...) and decided there: Signoff
    records its decisions but takes none itself (comments and CCs are still welcome)."""

    code = "externally_decided"


# ---- conflicts -----------------------------------------------------------------------


class InstanceFinished(Conflict):
    code = "instance_finished"


class InvalidTransition(Conflict):
    """The instance's status does not allow this command."""

    code = "invalid_transition"


class NotYourTurn(Conflict):
    """The task exists and is the actor's, but is waiting for someone before them."""

    code = "not_your_turn"


class TaskAlreadyDone(Conflict):
    code = "task_already_done"


class NodeAlreadyDecided(Conflict):
    """Another approver of an `any` (or a decided vote) node got there first."""

    code = "node_already_decided"


class TakeBackTooLate(Conflict):
    code = "take_back_too_late"


class TimerNotDue(Conflict):
    """The task has no timeout due now (already acted on, re-armed, or fired by another worker)."""

    code = "timer_not_due"


class VersionConflict(Conflict):
    """The client's expected version is not the instance's current version."""

    code = "version_conflict"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
