"""Webhook endpoints and the deliveries list, in SQL (the admin API's side of events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from signoff.store import outbox as box
from signoff.store.schema import deliveries, outbox, webhook_endpoints


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    app_id: str
    url: str
    event_types: list[str]
    description: str
    created_at: datetime
    disabled_at: datetime | None
    secrets: list[dict[str, Any]]


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        row.id,
        row.app_id,
        row.url,
        list(row.event_types),
        row.description,
        row.created_at,
        row.disabled_at,
        list(row.secrets),
    )


class SqlWebhookStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, endpoint: Endpoint) -> None:
        self.conn.execute(
            webhook_endpoints.insert().values(
                id=endpoint.id,
                app_id=endpoint.app_id,
                url=endpoint.url,
                event_types=endpoint.event_types,
                description=endpoint.description,
                created_at=endpoint.created_at,
                disabled_at=None,
                secrets=endpoint.secrets,
            )
        )

    def of_app(self, app_id: str) -> list[Endpoint]:
        query = (
            select(webhook_endpoints)
            .where(webhook_endpoints.c.app_id == app_id)
            .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
        )
        return [_endpoint(r) for r in self.conn.execute(query)]

    def get(self, app_id: str, endpoint_id: str) -> Endpoint | None:
        row = self.conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.app_id == app_id
            )
        ).first()
        return _endpoint(row) if row else None

    def disable(self, endpoint_id: str, now: datetime) -> None:
        self.conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.disabled_at.is_(None))
            .values(disabled_at=now)
        )

    def rotate(self, endpoint: Endpoint, secret: str, now: datetime, keep: timedelta) -> None:
        """A new signing secret; the current ones stay valid for `keep` (receivers switch)."""
        until = (now + keep).isoformat()
        kept = [
            {**s, "expires_at": s.get("expires_at") or until}
            for s in endpoint.secrets
            if s.get("expires_at") is None or datetime.fromisoformat(s["expires_at"]) > now
        ]
        self.conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(secrets=[{"secret": secret, "expires_at": None}, *kept])
        )

    def deliveries(
        self, status: str | None, sink: str | None, after: int | None, limit: int
    ) -> list[Any]:
        query = (
            select(deliveries, outbox.c.type)
            .outerjoin(outbox, outbox.c.event_id == deliveries.c.event_id)
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where(deliveries.c.status == status)
        if sink:
            query = query.where(deliveries.c.sink == sink)
        if after is not None:
            query = query.where(deliveries.c.id < after)
        return list(self.conn.execute(query))

    def replay(self, ids: list[int], now: datetime) -> int:
        return box.replay(self.conn, ids, now)
