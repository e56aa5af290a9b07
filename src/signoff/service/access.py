"""Who may see what. Enforced here, for every route, never in the client.

- An instance is visible to its applicant, everyone who holds or held a task on it,
  everyone CC'd, the template's admins and administrators; to an app only when the app
  owns the instance's template. To anyone else it does not exist: `UnknownInstance`
  (404), so a stranger cannot even learn that an id is taken.
- Fields: an approver sees a field unless every node they hold tasks on hides it; the
  applicant, CC'd people, admins and owning apps see every field.
"""

from __future__ import annotations

from typing import Any

from signoff.domain.errors import UnknownInstance
from signoff.domain.forms import Access, redact
from signoff.domain.instance import Instance
from signoff.service.auth import Caller
from signoff.service.ports import UnitOfWork

_RANK = {Access.HIDDEN: 0, Access.READ: 1, Access.WRITE: 2}


def may_see(caller: Caller, instance: Instance) -> bool:
    if caller.app is not None:
        return instance.template.key in caller.app.templates
    person = caller.principal_id
    if person is None:
        return False
    if caller.is_admin or person in instance.template.settings.admins:
        return True
    return person in instance.participants()


def access_instance(
    uow: UnitOfWork, caller: Caller, instance_id: str, *, lock: bool = False
) -> Instance:
    """The instance if the caller may see it; else "not found or not allowed"."""
    try:
        instance = uow.instances.get(instance_id, lock=lock)
    except UnknownInstance:
        instance = None
    if instance is None or not may_see(caller, instance):
        raise UnknownInstance(
            f"instance {instance_id!r} was not found or you may not see it",
            instance_id=instance_id,
        )
    return instance


def field_access(caller: Caller, instance: Instance) -> dict[str, Access] | None:
    """Per field path, what this caller may do; None means "sees everything"."""
    person = caller.principal_id
    if (
        caller.app is not None
        or caller.is_admin
        or person == instance.applicant_id
        or person in instance.cc
        or person in instance.template.settings.admins
    ):
        return None
    nodes = {t.node_id for t in instance.tasks.values() if person in (t.assignee, t.on_behalf_of)}
    out: dict[str, Access] = {}
    for path in instance.template.form.paths():
        best = Access.HIDDEN if nodes else Access.READ
        for node_id in nodes:
            node = instance.template.flow.approver(node_id)
            access = node.permissions.get(path, Access.READ) if node else Access.READ
            if _RANK[access] > _RANK[best]:
                best = access
        out[path] = best
    return out


def visible_form(caller: Caller, instance: Instance) -> dict[str, Any]:
    access = field_access(caller, instance)
    if access is None:
        return dict(instance.form)
    return redact(instance.template.form, instance.form, access)
