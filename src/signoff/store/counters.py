"""Serial-number counters and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from signoff.service.ports import StoredResponse
from signoff.store.schema import idempotency_keys, serial_counters


class SqlSerialCounter:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next(self, period: str) -> int:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(serial_counters).values(period=period, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[serial_counters.c.period],
            set_={"value": serial_counters.c.value + 1},
        ).returning(serial_counters.c.value)
        value: int = self.conn.execute(stmt).scalar_one()
        return value


class SqlIdempotencyStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, actor: str, key: str) -> StoredResponse | None:
        row = self.conn.execute(
            select(idempotency_keys.c.command_hash, idempotency_keys.c.response).where(
                idempotency_keys.c.actor == actor, idempotency_keys.c.key == key
            )
        ).one_or_none()
        return None if row is None else StoredResponse(row.command_hash, row.response)

    def put(
        self,
        actor: str,
        key: str,
        command_hash: str,
        instance_id: str | None,
        response: dict[str, Any],
        at: datetime,
    ) -> None:
        self.conn.execute(
            insert(idempotency_keys).values(
                actor=actor,
                key=key,
                command_hash=command_hash,
                instance_id=instance_id,
                response=response,
                created_at=at,
            )
        )
