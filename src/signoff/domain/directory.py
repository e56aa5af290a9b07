"""The directory: people (principals), departments as a tree with heads, roles,
positions and external identities.

The engine only reads the directory, through the small `Directory` protocol, so
that the store can answer from indexed tables and tests can use
`InMemoryDirectory`. Identities from other platforms map to one principal as
`platform:type:id` (for example `wecom:user:zhangsan`, seed 002).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from signoff.domain.errors import Invalid, Problem, UnknownDepartment, UnknownPrincipal

IDENTITY = re.compile(r"^([a-z][a-z0-9_]*):([a-z][a-z0-9_]*):(\S+)$")


@dataclass(frozen=True, slots=True)
class Identity:
    platform: str
    type: str
    external_id: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        match = IDENTITY.match(text)
        if not match:
            raise Invalid(
                f"identity {text!r} is not of the form platform:type:id",
                [Problem("identity", "format", "expected platform:type:id, e.g. wecom:user:zs")],
            )
        return cls(match[1], match[2], match[3])

    def __str__(self) -> str:
        return f"{self.platform}:{self.type}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class Principal:
    """A person. `department_id` is their primary department (heads are looked up there)."""

    id: str
    name: str
    department_id: str | None = None
    roles: frozenset[str] = frozenset()
    position: str | None = None
    email: str | None = None
    active: bool = True
    identities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    name: str
    parent_id: str | None = None
    head_ids: tuple[str, ...] = ()

    @property
    def head_id(self) -> str | None:
        return self.head_ids[0] if self.head_ids else None


@dataclass(frozen=True, slots=True)
class Delegation:
    """Out of office: from `starts_at` until `ends_at`, new tasks of `principal_id` (for the
    listed templates, or all when None) go to `delegate_id`, on the principal's behalf."""

    id: str
    principal_id: str
    delegate_id: str
    template_keys: tuple[str, ...] | None
    starts_at: datetime
    ends_at: datetime

    def covers(self, template_key: str, at: datetime) -> bool:
        in_time = self.starts_at <= at < self.ends_at
        return in_time and (self.template_keys is None or template_key in self.template_keys)


def stand_in_of(
    delegations: Iterable[Delegation], principal_id: str, template_key: str, at: datetime
) -> str | None:
    """Who takes a new task of this person now: the delegate of the latest-starting
    delegation that covers it (one level: a delegate's own absence is not followed)."""
    found = [
        d for d in delegations if d.principal_id == principal_id and d.covers(template_key, at)
    ]
    if not found:
        return None
    return max(found, key=lambda d: (d.starts_at, d.id)).delegate_id


class Directory(Protocol):
    """What the engine needs to know about people and departments."""

    def stand_in(self, principal_id: str, template_key: str, at: datetime) -> str | None:
        """Who acts for this person on new tasks of this template now (out of office)."""
        ...

    def principal(self, principal_id: str) -> Principal | None: ...

    def department(self, department_id: str) -> Department | None: ...

    def with_role(self, role: str) -> list[str]:
        """Active people with the role, ordered by id."""
        ...

    def with_position(self, position: str) -> list[str]:
        """Active people with the position, ordered by id."""
        ...


def department_chain(directory: Directory, department_id: str | None) -> Iterator[Department]:
    """The department and every department above it, nearest first (cycle-safe)."""
    seen: set[str] = set()
    current = department_id
    while current is not None and current not in seen:
        seen.add(current)
        dept = directory.department(current)
        if dept is None:
            return
        yield dept
        current = dept.parent_id


def require_principal(directory: Directory, principal_id: str) -> Principal:
    found = directory.principal(principal_id)
    if found is None or not found.active:
        raise UnknownPrincipal(f"no active principal {principal_id!r}", principal_id=principal_id)
    return found


@dataclass
class InMemoryDirectory:
    """A whole directory held in memory: for tests, previews and small companies."""

    principals: dict[str, Principal] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    _by_role: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_position: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_identity: dict[str, str] = field(default_factory=dict, repr=False)
    delegations: list[Delegation] = field(default_factory=list)

    def stand_in(self, principal_id: str, template_key: str, at: datetime) -> str | None:
        return stand_in_of(self.delegations, principal_id, template_key, at)

    @classmethod
    def of(
        cls, principals: Iterable[Principal], departments: Iterable[Department] = ()
    ) -> InMemoryDirectory:
        directory = cls()
        for dept in departments:
            directory.departments[dept.id] = dept
        for person in principals:
            directory.add(person)
        problems = directory.problems()
        if problems:
            raise Invalid(f"the directory has {len(problems)} problem(s)", problems)
        return directory

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InMemoryDirectory:
        """`{"departments": [...], "principals": [...]}` as in examples/directory.json."""
        return cls.of(
            [
                Principal(
                    p["id"],
                    p["name"],
                    p.get("department_id"),
                    frozenset(p.get("roles", ())),
                    p.get("position"),
                    p.get("email"),
                    p.get("active", True),
                    tuple(p.get("identities", ())),
                )
                for p in data.get("principals", ())
            ],
            [
                Department(d["id"], d["name"], d.get("parent_id"), tuple(d.get("head_ids", ())))
                for d in data.get("departments", ())
            ],
        )

    def add(self, person: Principal) -> None:
        self.principals[person.id] = person
        for role in sorted(person.roles):
            self._by_role.setdefault(role, []).append(person.id)
        if person.position:
            self._by_position.setdefault(person.position, []).append(person.id)
        for identity in person.identities:
            self._by_identity[str(Identity.parse(identity))] = person.id

    def problems(self) -> list[Problem]:
        """Unknown departments and heads, and cycles in the department tree."""
        problems: list[Problem] = []
        for dept in self.departments.values():
            if dept.parent_id is not None and dept.parent_id not in self.departments:
                problems.append(
                    Problem(
                        f"departments.{dept.id}.parent_id", "unknown_department", dept.parent_id
                    )
                )
            problems.extend(
                Problem(f"departments.{dept.id}.head_ids", "unknown_principal", head)
                for head in dept.head_ids
                if head not in self.principals
            )
            chain = [d.id for d in department_chain(self, dept.id)]
            last = self.departments.get(chain[-1]) if chain else None
            if last is not None and last.parent_id in chain:
                problems.append(
                    Problem(f"departments.{dept.id}.parent_id", "cycle", " -> ".join(chain))
                )
        for person in self.principals.values():
            if person.department_id is not None and person.department_id not in self.departments:
                problems.append(
                    Problem(
                        f"principals.{person.id}.department_id",
                        "unknown_department",
                        person.department_id,
                    )
                )
        return problems

    # -- Directory protocol --

    def principal(self, principal_id: str) -> Principal | None:
        return self.principals.get(principal_id)

    def department(self, department_id: str) -> Department | None:
        return self.departments.get(department_id)

    def with_role(self, role: str) -> list[str]:
        """Active people with the role, by id (the order every Directory answers in)."""
        return sorted(p for p in self._by_role.get(role, ()) if self.principals[p].active)

    def with_position(self, position: str) -> list[str]:
        return sorted(p for p in self._by_position.get(position, ()) if self.principals[p].active)

    # -- extras --

    def by_identity(self, identity: str) -> str | None:
        return self._by_identity.get(str(Identity.parse(identity)))

    def require_department(self, department_id: str) -> Department:
        dept = self.departments.get(department_id)
        if dept is None:
            raise UnknownDepartment(f"no department {department_id!r}", department_id=department_id)
        return dept
