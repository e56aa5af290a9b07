"""Sign-in data: password accounts, refresh tokens, apps and their API keys.

Only hashes are stored: argon2 for passwords, SHA-256 for refresh tokens and API keys
(random 256-bit secrets, for which a fast hash is enough).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, insert, select, update

from signoff.service.ports import Account, App
from signoff.store.schema import accounts, app_templates, apps, refresh_tokens


class SqlAccountStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_account(self, principal_id: str) -> Account | None:
        row = self.conn.execute(
            select(accounts).where(accounts.c.principal_id == principal_id)
        ).one_or_none()
        return None if row is None else Account(row.principal_id, row.password_hash, row.is_admin)

    def set_account(
        self, principal_id: str, password_hash: str, is_admin: bool, at: datetime
    ) -> None:
        # a new password ends every session of the old one
        self.conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.principal_id == principal_id, refresh_tokens.c.revoked_at.is_(None)
            )
            .values(revoked_at=at)
        )
        values = {"password_hash": password_hash, "is_admin": is_admin}
        done = self.conn.execute(
            update(accounts).where(accounts.c.principal_id == principal_id).values(values)
        )
        if done.rowcount == 0:
            self.conn.execute(
                insert(accounts).values(principal_id=principal_id, created_at=at, **values)
            )

    def admins(self) -> set[str]:
        return set(
            self.conn.execute(
                select(accounts.c.principal_id).where(accounts.c.is_admin.is_(True))
            ).scalars()
        )

    def add_refresh(self, token_hash: str, principal_id: str, expires_at: datetime) -> None:
        self.conn.execute(
            insert(refresh_tokens).values(
                token_hash=token_hash, principal_id=principal_id, expires_at=expires_at
            )
        )

    def use_refresh(self, token_hash: str, now: datetime) -> str | None:
        """Spend a refresh token (each works once); the principal it belonged to."""
        found: str | None = self.conn.execute(
            update(refresh_tokens)
            .where(
                and_(
                    refresh_tokens.c.token_hash == token_hash,
                    refresh_tokens.c.revoked_at.is_(None),
                    refresh_tokens.c.expires_at > now,
                )
            )
            .values(revoked_at=now)
            .returning(refresh_tokens.c.principal_id)
        ).scalar()
        return found

    def add_app(
        self,
        app_id: str,
        name: str,
        key_hash: str,
        prefix: str,
        at: datetime,
        acts_as: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(apps).values(
                id=app_id,
                name=name,
                key_hash=key_hash,
                key_prefix=prefix,
                created_at=at,
                acts_as=acts_as,
            )
        )

    def app_by_key(self, key_hash: str) -> App | None:
        row = self.conn.execute(
            select(apps).where(apps.c.key_hash == key_hash, apps.c.revoked_at.is_(None))
        ).one_or_none()
        return None if row is None else self._app(row)

    def get_app(self, app_id: str) -> App | None:
        row = self.conn.execute(select(apps).where(apps.c.id == app_id)).one_or_none()
        return None if row is None else self._app(row)

    def _app(self, row: object) -> App:
        app_id = row.id  # type: ignore[attr-defined]  # a Row of the apps table
        keys = frozenset(
            self.conn.execute(
                select(app_templates.c.template_key).where(app_templates.c.app_id == app_id)
            ).scalars()
        )
        return App(
            app_id,
            row.name,  # type: ignore[attr-defined]
            row.key_prefix,  # type: ignore[attr-defined]
            row.created_at,  # type: ignore[attr-defined]
            row.revoked_at,  # type: ignore[attr-defined]
            keys,
            row.acts_as,  # type: ignore[attr-defined]
        )

    def list_apps(self) -> list[App]:
        return [self._app(r) for r in self.conn.execute(select(apps).order_by(apps.c.created_at))]

    def revoke_app(self, app_id: str, at: datetime) -> bool:
        done = self.conn.execute(
            update(apps)
            .where(apps.c.id == app_id, apps.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return done.rowcount == 1

    def grant_template(self, app_id: str, template_key: str) -> None:
        exists = self.conn.execute(
            select(app_templates.c.app_id).where(
                app_templates.c.app_id == app_id, app_templates.c.template_key == template_key
            )
        ).first()
        if exists is None:
            self.conn.execute(
                insert(app_templates).values(app_id=app_id, template_key=template_key)
            )
