"""Integrations in SQL: an app's WeCom settings, the requests mirrored from another system,
and the nonces of accepted callbacks (the replay guard every API node shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from signoff.service.ports import Clock
from signoff.store.database import Database
from signoff.store.schema import callback_nonces, external_links, wecom_apps


@dataclass(frozen=True, slots=True)
class WecomApp:
    """An app's WeCom settings as stored; `templates` maps a WeCom TemplateId to its
    mapping document (signoff.integrations.wecom.config reads it)."""

    app_id: str
    corp_id: str
    token: str = field(repr=False)
    aes_key: str = field(repr=False)
    secret: str | None = field(repr=False)
    users: str
    templates: dict[str, dict[str, Any]]
    updated_at: datetime
    updated_by: str | None


class SqlWecomApps:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, app_id: str) -> WecomApp | None:
        row = self.conn.execute(
            select(wecom_apps).where(wecom_apps.c.app_id == app_id)
        ).one_or_none()
        return None if row is None else _app(row)

    def by_corp(self, corp_id: str) -> WecomApp | None:
        row = self.conn.execute(
            select(wecom_apps).where(wecom_apps.c.corp_id == corp_id)
        ).one_or_none()
        return None if row is None else _app(row)

    def put(self, app: WecomApp) -> None:
        self.conn.execute(delete(wecom_apps).where(wecom_apps.c.app_id == app.app_id))
        values = {f: getattr(app, f) for f in WecomApp.__dataclass_fields__}
        self.conn.execute(insert(wecom_apps).values(values))


def _app(row: Any) -> WecomApp:
    return WecomApp(
        row.app_id,
        row.corp_id,
        row.token,
        row.aes_key,
        row.secret,
        row.users,
        dict(row.templates),
        row.updated_at,
        row.updated_by,
    )


class SqlExternalLinks:
    """Which instance mirrors which request of another system."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, source: str, external_id: str) -> str | None:
        found: str | None = self.conn.execute(
            select(external_links.c.instance_id).where(
                external_links.c.source == source, external_links.c.external_id == external_id
            )
        ).scalar()
        return found

    def add(
        self, source: str, external_id: str, instance_id: str, app_id: str | None, at: datetime
    ) -> None:
        """Link them (IntegrityError when another transaction linked the request first)."""
        self.conn.execute(
            insert(external_links).values(
                source=source,
                external_id=external_id,
                instance_id=instance_id,
                app_id=app_id,
                created_at=at,
            )
        )


class SqlReplayGuard:
    """`signoff.integrations.wecom.freshness.ReplayGuard` in the database, per app: a
    (nonce, timestamp) pair is remembered for `ttl` (twice the freshness window) by one
    INSERT on the primary key, so two copies of a request racing on two nodes cannot both
    pass. Each check first forgets the pairs that have expired."""

    def __init__(self, db: Database, source: str, clock: Clock, ttl: timedelta) -> None:
        self.db = db
        self.source = source
        self.clock = clock
        self.ttl = ttl

    def seen(self, nonce: str, timestamp: str) -> bool:
        now = self.clock.now()
        with self.db.writer() as conn:
            conn.execute(delete(callback_nonces).where(callback_nonces.c.expires_at <= now))
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(callback_nonces).values(
                            source=self.source,
                            nonce=nonce[:64],
                            timestamp=timestamp[:20],
                            expires_at=now + self.ttl,
                        )
                    )
            except IntegrityError:
                return True
        return False

    def forget(self, nonce: str, timestamp: str) -> None:
        """Accept this pair again: the request it came with was not acted on (a failure
        on our side), so the sender's retry must not be refused as a replay."""
        with self.db.writer() as conn:
            conn.execute(
                delete(callback_nonces).where(
                    callback_nonces.c.source == self.source,
                    callback_nonces.c.nonce == nonce[:64],
                    callback_nonces.c.timestamp == timestamp[:20],
                )
            )
