"""Who a node's tasks go to: assignee rules resolved against the directory.

`resolve` turns a node's rules into an ordered list of distinct, active
principal ids. Heads are found by walking up from a department; a head who is
the applicant is passed over (nobody is their own supervisor), so for a team
lead the "level 1 head" is their own head's head. Choice rules read the choices
made at submission (`applicant_choice`) or by the approver before
(`previous_approver_choice`); a missing choice is a `ChoiceRequired` error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from signoff.domain.directory import Directory, Principal, department_chain
from signoff.domain.errors import ChoiceRequired, CommandInvalid, UnknownPrincipal
from signoff.domain.flow import ApproverNode, AssigneeRule, OnApplicant, RuleKind


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant as the engine sees them: fixed at submission for the whole run."""

    id: str
    name: str
    department_id: str | None
    department_ids: frozenset[str]  # their department and every one above it
    roles: frozenset[str]
    position: str | None

    @classmethod
    def of(cls, person: Principal, directory: Directory) -> Applicant:
        chain = frozenset(d.id for d in department_chain(directory, person.department_id))
        return cls(
            person.id, person.name, person.department_id, chain, person.roles, person.position
        )


def heads_above(directory: Directory, department_id: str | None, applicant_id: str) -> list[str]:
    """Heads of the department and of each one above it, nearest first, without the applicant."""
    heads: list[str] = []
    for dept in department_chain(directory, department_id):
        head = next((h for h in dept.head_ids if h != applicant_id), None)
        if head is not None and head not in heads:
            principal = directory.principal(head)
            if principal is not None and principal.active:
                heads.append(head)
    return heads


def check_choice(
    rule: AssigneeRule, node_id: str, chosen: Sequence[str], directory: Directory
) -> tuple[str, ...]:
    """Validate people chosen for a choice node; return them without duplicates."""
    if not chosen:
        raise ChoiceRequired(
            f"node {node_id!r} needs its approvers chosen ({rule.kind.value})", node_id=node_id
        )
    if not rule.multiple and len(chosen) > 1:
        raise CommandInvalid(f"node {node_id!r} takes one chosen approver", node_id=node_id)
    for person in chosen:
        principal = directory.principal(person)
        if principal is None or not principal.active:
            raise UnknownPrincipal(f"no active principal {person!r}", principal_id=person)
        if rule.candidates and person not in rule.candidates:
            raise CommandInvalid(
                f"{person!r} is not a candidate for node {node_id!r}",
                node_id=node_id,
                principal_id=person,
            )
    return tuple(dict.fromkeys(chosen))


def resolve(
    rules: Sequence[AssigneeRule],
    *,
    node_id: str,
    applicant: Applicant,
    form: Mapping[str, object],
    choices: Mapping[str, tuple[str, ...]],
    directory: Directory,
) -> list[str]:
    """The people the rules name, in rule order, each once; inactive people left out."""
    out: dict[str, None] = {}
    for rule in rules:
        for person in _one(rule, node_id, applicant, form, choices, directory):
            principal = directory.principal(person)
            if principal is not None and principal.active:
                out[person] = None
    return list(out)


def _one(
    rule: AssigneeRule,
    node_id: str,
    applicant: Applicant,
    form: Mapping[str, object],
    choices: Mapping[str, tuple[str, ...]],
    directory: Directory,
) -> Sequence[str]:
    kind = rule.kind
    if kind is RuleKind.USERS:
        return rule.users
    if kind is RuleKind.ROLE:
        return directory.with_role(rule.role)
    if kind is RuleKind.POSITION:
        return directory.with_position(rule.position)
    if kind is RuleKind.APPLICANT:
        return (applicant.id,)
    if kind is RuleKind.DEPARTMENT_HEAD:
        heads = heads_above(directory, applicant.department_id, applicant.id)
        return heads[rule.level - 1 : rule.level]
    if kind is RuleKind.SUPERVISORS:
        heads = heads_above(directory, applicant.department_id, applicant.id)
        if rule.up_to_level:
            return heads[: rule.up_to_level]
        for i, head in enumerate(heads):
            principal = directory.principal(head)
            if principal is not None and principal.position == rule.up_to_position:
                return heads[: i + 1]
        return heads
    if kind is RuleKind.FORM_DEPARTMENT_HEAD:
        value = form.get(rule.field)
        departments = value if isinstance(value, list) else [value] if value else []
        found: list[str] = []
        for dept in departments:
            if isinstance(dept, str):
                found.extend(
                    heads_above(directory, dept, applicant.id)[rule.level - 1 : rule.level]
                )
        return found
    if kind is RuleKind.FORM_USER:
        value = form.get(rule.field)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
        return [value] if isinstance(value, str) else []
    # applicant_choice / previous_approver_choice
    return check_choice(rule, node_id, choices.get(node_id, ()), directory)


def on_applicant(
    people: list[str], node: ApproverNode, applicant: Applicant, directory: Directory
) -> list[str]:
    """The node's rule for an applicant among its approvers: `supervisor` puts the
    applicant's head in their place; `self` keeps them; `skip` is applied by the caller
    (the applicant is left out, and a node left with nobody is passed)."""
    if node.on_applicant is not OnApplicant.SUPERVISOR or applicant.id not in people:
        return people
    heads = heads_above(directory, applicant.department_id, applicant.id)
    at = people.index(applicant.id)
    people = [p for p in people if p != applicant.id]
    if heads and heads[0] not in people:
        people.insert(at, heads[0])
    return people


def active(people: Sequence[str], directory: Directory) -> list[str]:
    out = []
    for person in people:
        found = directory.principal(person)
        if found is not None and found.active:
            out.append(person)
    return out


def check_known(people: Sequence[str], directory: Directory) -> None:
    """Every id names an active principal (for transfer, add approver, CC, hand over)."""
    for person in people:
        principal = directory.principal(person)
        if principal is None or not principal.active:
            raise UnknownPrincipal(f"no active principal {person!r}", principal_id=person)
