"""The directory in SQL: the engine's `Directory` protocol answered from indexed tables,
and the writes of a directory import (upserts, in the caller's transaction)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from signoff.domain.directory import Delegation, Department, Principal, stand_in_of
from signoff.store.prepared import Prepared
from signoff.store.schema import (
    delegations,
    department_heads,
    departments,
    directory_version,
    identities,
    principal_roles,
    principals,
)


@dataclass
class DirectoryCache:
    """Lookups shared by every unit of work of a process, valid for one generation.

    Every directory write bumps `directory_version.generation` in its transaction; a unit
    of work reads the generation once (one indexed row) and drops the cache when it
    moved, so a lookup never answers from a directory older than the transaction's.
    """

    generation: int = -1
    principals: dict[str, Principal | None] = field(default_factory=dict)
    departments: dict[str, Department | None] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    positions: dict[str, list[str]] = field(default_factory=dict)
    delegations: list[Delegation] | None = None  # every one not revoked
    lock: threading.Lock = field(default_factory=threading.Lock)


_caches: dict[str, DirectoryCache] = {}
# every unit of work asks it (signoff.store.prepared: compiled once, run on the driver)
_generation = Prepared(select(directory_version.c.generation).where(directory_version.c.id == 1))


def shared_cache(url: str) -> DirectoryCache:
    return _caches.setdefault(url, DirectoryCache())


class SqlDirectory:
    """The directory, cached per process and checked once per unit of work."""

    def __init__(self, conn: Connection, cache: DirectoryCache | None = None) -> None:
        self.conn = conn
        self._shared = cache or DirectoryCache()
        self._checked = False

    def _cache(self) -> DirectoryCache:
        cache = self._shared
        if not self._checked:
            row = _generation.one_or_none(self.conn, {})
            current = row.generation if row is not None else 0
            if cache.generation != current:
                with cache.lock:
                    cache.principals.clear()
                    cache.departments.clear()
                    cache.roles.clear()
                    cache.positions.clear()
                    cache.delegations = None
                    cache.generation = current
            self._checked = True
        return cache

    @property
    def _principals(self) -> dict[str, Principal | None]:
        return self._cache().principals

    @property
    def _departments(self) -> dict[str, Department | None]:
        return self._cache().departments

    def stand_in(self, principal_id: str, template_key: str, at: datetime) -> str | None:
        cache = self._cache()
        found = cache.delegations
        if found is None:
            found = [
                Delegation(
                    r.id,
                    r.principal_id,
                    r.delegate_id,
                    tuple(r.template_keys) if r.template_keys is not None else None,
                    r.starts_at,
                    r.ends_at,
                )
                for r in self.conn.execute(
                    select(delegations).where(delegations.c.revoked_at.is_(None))
                )
            ]
            cache.delegations = found
        return stand_in_of(found, principal_id, template_key, at)

    def bump(self) -> None:
        """Directory data changed in this transaction: every process drops its cache."""
        bumped = self.conn.execute(
            update(directory_version)
            .where(directory_version.c.id == 1)
            .values(generation=directory_version.c.generation + 1)
        )
        if bumped.rowcount == 0:
            self.conn.execute(insert(directory_version).values(id=1, generation=1))
        self._shared = DirectoryCache()  # this transaction sees its own writes uncached

    def principal(self, principal_id: str) -> Principal | None:
        if principal_id in self._principals:
            return self._principals[principal_id]
        rows = self.conn.execute(
            select(principals, principal_roles.c.role, identities.c.identity)
            .outerjoin(principal_roles, principal_roles.c.principal_id == principals.c.id)
            .outerjoin(identities, identities.c.principal_id == principals.c.id)
            .where(principals.c.id == principal_id)
        ).all()
        found = None
        if rows:
            row = rows[0]
            found = Principal(
                row.id,
                row.name,
                row.department_id,
                frozenset(r.role for r in rows if r.role is not None),
                row.position,
                row.email,
                row.active,
                tuple(sorted({r.identity for r in rows if r.identity is not None})),
            )
        self._principals[principal_id] = found
        return found

    def department(self, department_id: str) -> Department | None:
        if department_id in self._departments:
            return self._departments[department_id]
        rows = self.conn.execute(
            select(departments, department_heads.c.principal_id)
            .outerjoin(department_heads, department_heads.c.department_id == departments.c.id)
            .where(departments.c.id == department_id)
            .order_by(department_heads.c.rank)
        ).all()
        found = None
        if rows:
            heads = tuple(r.principal_id for r in rows if r.principal_id is not None)
            found = Department(rows[0].id, rows[0].name, rows[0].parent_id, heads)
        self._departments[department_id] = found
        return found

    def with_role(self, role: str) -> list[str]:
        cached = self._cache().roles.get(role)
        if cached is not None:
            return cached
        query = (
            select(principal_roles.c.principal_id)
            .join(principals, principals.c.id == principal_roles.c.principal_id)
            .where(principal_roles.c.role == role, principals.c.active.is_(True))
            .order_by(principal_roles.c.principal_id)
        )
        found = self._cache().roles[role] = list(self.conn.execute(query).scalars())
        return found

    def with_position(self, position: str) -> list[str]:
        cached = self._cache().positions.get(position)
        if cached is not None:
            return cached
        query = (
            select(principals.c.id)
            .where(principals.c.position == position, principals.c.active.is_(True))
            .order_by(principals.c.id)
        )
        found = self._cache().positions[position] = list(self.conn.execute(query).scalars())
        return found

    def by_identity(self, identity: str) -> str | None:
        found: str | None = self.conn.execute(
            select(identities.c.principal_id).where(identities.c.identity == identity)
        ).scalar()
        return found

    def all_departments(self) -> list[Department]:
        heads: dict[str, list[str]] = {}
        for row in self.conn.execute(select(department_heads).order_by(department_heads.c.rank)):
            heads.setdefault(row.department_id, []).append(row.principal_id)
        return [
            Department(r.id, r.name, r.parent_id, tuple(heads.get(r.id, ())))
            for r in self.conn.execute(select(departments).order_by(departments.c.id))
        ]

    def principal_ids(self) -> set[str]:
        return set(self.conn.execute(select(principals.c.id)).scalars())

    def identity_owners(self) -> dict[str, str]:
        return {r.identity: r.principal_id for r in self.conn.execute(select(identities))}

    # ---- writes ----------------------------------------------------------------------

    def upsert(self, depts: Sequence[Department], people: Sequence[Principal]) -> None:
        """Insert or replace these departments and people (roles, heads and identities too)."""
        existing_depts = set(self.conn.execute(select(departments.c.id)).scalars())
        for dept in depts:
            fields = {"name": dept.name, "parent_id": dept.parent_id}
            if dept.id in existing_depts:
                self.conn.execute(update(departments).where(departments.c.id == dept.id), fields)
            else:
                self.conn.execute(insert(departments).values(id=dept.id, **fields))
        existing_people = self.principal_ids()
        for person in people:
            values: dict[str, object] = {
                "name": person.name,
                "department_id": person.department_id,
                "position": person.position,
                "email": person.email,
                "active": person.active,
            }
            if person.id in existing_people:
                self.conn.execute(update(principals).where(principals.c.id == person.id), values)
            else:
                self.conn.execute(insert(principals).values(id=person.id, **values))
            self.conn.execute(
                delete(principal_roles).where(principal_roles.c.principal_id == person.id)
            )
            self.conn.execute(delete(identities).where(identities.c.principal_id == person.id))
            if person.roles:
                self.conn.execute(
                    insert(principal_roles),
                    [{"principal_id": person.id, "role": r} for r in sorted(person.roles)],
                )
            if person.identities:
                self.conn.execute(
                    insert(identities),
                    [{"identity": i, "principal_id": person.id} for i in person.identities],
                )
        for dept in depts:
            self.conn.execute(
                delete(department_heads).where(department_heads.c.department_id == dept.id)
            )
            if dept.head_ids:
                self.conn.execute(
                    insert(department_heads),
                    [
                        {"department_id": dept.id, "principal_id": h, "rank": i}
                        for i, h in enumerate(dept.head_ids)
                    ],
                )
        self.bump()
