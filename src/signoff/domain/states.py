"""States of instances, nodes and tasks, with their transition tables.

Every status change in the engine goes through `check_*`, so a transition that
is not in the table is a bug caught at once, not a silently corrupt instance.
"""

from __future__ import annotations

from enum import StrEnum

from signoff.domain.errors import InstanceFinished, InvalidTransition


class InstanceStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RETURNED = "returned"  # sent back to the applicant to edit and resubmit
    TERMINATED = "terminated"  # ended by a template admin

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset(
    {
        InstanceStatus.APPROVED,
        InstanceStatus.REJECTED,
        InstanceStatus.WITHDRAWN,
        InstanceStatus.TERMINATED,
    }
)

S = InstanceStatus
INSTANCE_TRANSITIONS: dict[InstanceStatus, frozenset[InstanceStatus]] = {
    S.DRAFT: frozenset({S.DRAFT, S.PENDING, S.WITHDRAWN}),
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN, S.RETURNED, S.TERMINATED}),
    S.RETURNED: frozenset({S.PENDING, S.WITHDRAWN, S.TERMINATED}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.TERMINATED: frozenset(),
}


def check_instance_transition(
    instance_id: str, current: InstanceStatus, new: InstanceStatus
) -> None:
    if new in INSTANCE_TRANSITIONS[current]:
        return
    if current.finished:
        raise InstanceFinished(
            f"instance {instance_id} is already {current.value}",
            instance_id=instance_id,
            status=current.value,
        )
    raise InvalidTransition(
        f"instance {instance_id} cannot go from {current.value} to {new.value}",
        instance_id=instance_id,
        status=current.value,
    )


class NodeStatus(StrEnum):
    ACTIVE = "active"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    WAITING = "waiting"  # not yet their turn
    PENDING = "pending"  # their turn
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"  # they sent the instance back
    SKIPPED = "skipped"  # approved automatically (dedup, applicant skip, empty node)
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        return self in (TaskStatus.WAITING, TaskStatus.PENDING)


T = TaskStatus
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    T.WAITING: frozenset({T.PENDING, T.CANCELLED, T.SKIPPED, T.TRANSFERRED}),
    T.PENDING: frozenset(
        {T.WAITING, T.APPROVED, T.REJECTED, T.RETURNED, T.TRANSFERRED, T.CANCELLED, T.SKIPPED}
    ),
    # a take-back (拿回) reopens an approval; the rest are final
    T.APPROVED: frozenset({T.PENDING}),
    T.SKIPPED: frozenset(),
    T.REJECTED: frozenset(),
    T.RETURNED: frozenset(),
    T.TRANSFERRED: frozenset(),
    T.CANCELLED: frozenset({T.PENDING, T.WAITING}),  # reopened by a take-back
}


class TaskKind(StrEnum):
    NORMAL = "normal"
    ADDED = "added"  # 加签: added by an approver, may be removed again (减签)
    DELEGATED = "delegated"  # 委派: answers for the delegator, who then decides
    ADMIN = "admin"  # nobody resolved: the template's admins


class CancelReason(StrEnum):
    NODE_DECIDED = "node_decided"  # another approver of an any/vote node decided first
    INSTANCE_FINISHED = "instance_finished"
    RETURNED = "returned"
    TAKEN_BACK = "taken_back"
    REMOVED = "removed"  # 减签


def check_task_transition(task_id: str, current: TaskStatus, new: TaskStatus) -> None:
    if new not in TASK_TRANSITIONS[current]:
        raise InvalidTransition(
            f"task {task_id} cannot go from {current.value} to {new.value}",
            task_id=task_id,
            status=current.value,
        )
