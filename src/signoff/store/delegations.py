"""Out-of-office delegations in SQL. Every change bumps the directory generation, so every
process's cached view of them (`SqlDirectory.stand_in`) is dropped at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from signoff.domain.directory import Delegation
from signoff.store.directory import SqlDirectory
from signoff.store.schema import delegations


def _delegation(row: Any) -> Delegation:
    keys = tuple(row.template_keys) if row.template_keys is not None else None
    return Delegation(row.id, row.principal_id, row.delegate_id, keys, row.starts_at, row.ends_at)


class SqlDelegationStore:
    def __init__(self, conn: Connection, directory: SqlDirectory) -> None:
        self.conn = conn
        self.directory = directory

    def add(self, delegation: Delegation, at: datetime) -> None:
        self.conn.execute(
            delegations.insert().values(
                id=delegation.id,
                principal_id=delegation.principal_id,
                delegate_id=delegation.delegate_id,
                template_keys=list(delegation.template_keys)
                if delegation.template_keys is not None
                else None,
                starts_at=delegation.starts_at,
                ends_at=delegation.ends_at,
                created_at=at,
            )
        )
        self.directory.bump()

    def get(self, delegation_id: str) -> Delegation | None:
        row = self.conn.execute(
            select(delegations).where(
                delegations.c.id == delegation_id, delegations.c.revoked_at.is_(None)
            )
        ).first()
        return _delegation(row) if row else None

    def involving(self, principal_id: str, now: datetime) -> list[Delegation]:
        """Delegations given or received by the person that have not ended or been revoked."""
        query = (
            select(delegations)
            .where(
                or_(
                    delegations.c.principal_id == principal_id,
                    delegations.c.delegate_id == principal_id,
                ),
                delegations.c.revoked_at.is_(None),
                delegations.c.ends_at > now,
            )
            .order_by(delegations.c.starts_at, delegations.c.id)
        )
        return [_delegation(r) for r in self.conn.execute(query)]

    def revoke(self, delegation_id: str, at: datetime) -> None:
        self.conn.execute(
            update(delegations).where(delegations.c.id == delegation_id).values(revoked_at=at)
        )
        self.directory.bump()
