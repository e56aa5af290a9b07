"""Templates in SQL: published versions are immutable rows; one draft per key.

Parsed templates are cached per process by (database, key, version): a published
version never changes, so every instance load after the first reuses the same
`Template`. A version published in the current transaction is not cached until a later
transaction reads it (it may still roll back).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from signoff.domain.errors import UnknownTemplate
from signoff.domain.templates import Template, parse_template
from signoff.service.ports import TemplateSummary
from signoff.store.schema import template_drafts, templates

_cache: dict[tuple[str, str, int], Template] = {}
_cache_lock = threading.Lock()


class SqlTemplateRepository:
    def __init__(self, conn: Connection, database: str) -> None:
        self.conn = conn
        self.database = database
        self._published: set[tuple[str, int]] = set()  # in this transaction: not cached

    def get(self, key: str, version: int | None = None) -> Template:
        if version is not None:
            cached = _cache.get((self.database, key, version))
            if cached is not None:
                return cached
        query = select(templates.c.version, templates.c.definition).where(templates.c.key == key)
        if version is None:
            query = query.order_by(templates.c.version.desc()).limit(1)
        else:
            query = query.where(templates.c.version == version)
        row = self.conn.execute(query).one_or_none()
        if row is None:
            what = f"{key!r}" if version is None else f"{key!r} version {version}"
            raise UnknownTemplate(f"no published template {what}", key=key, version=version)
        cached = _cache.get((self.database, key, row.version))
        if cached is not None:
            return cached
        template = parse_template(row.definition, version=row.version)
        if (key, row.version) not in self._published:
            with _cache_lock:
                _cache[(self.database, key, row.version)] = template
        return template

    def publish(self, definition: dict[str, Any], by: str | None, at: datetime) -> Template:
        """Validate and store the next version of `definition["key"]` (TemplateInvalid)."""
        parse_template(definition)  # every problem reported before anything is written
        key = str(definition["key"])
        latest = self.conn.execute(
            select(func.max(templates.c.version)).where(templates.c.key == key)
        ).scalar()
        version = (latest or 0) + 1
        template = parse_template(definition, version=version)
        self._published.add((key, version))
        self.conn.execute(
            insert(templates).values(
                key=key,
                version=version,
                name=template.name,
                definition=template.raw,
                published_at=at,
                published_by=by,
            )
        )
        return template

    def save_draft(self, definition: dict[str, Any], by: str | None, at: datetime) -> None:
        key = str(definition.get("key") or "")
        values = {"definition": definition, "updated_at": at, "updated_by": by}
        done = self.conn.execute(
            update(template_drafts).where(template_drafts.c.key == key).values(values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(template_drafts).values(key=key, **values))

    def get_draft(self, key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.conn.execute(
            select(template_drafts.c.definition).where(template_drafts.c.key == key)
        ).scalar()
        return found

    def summaries(self) -> list[TemplateSummary]:
        latest = (
            select(templates.c.key, func.max(templates.c.version).label("version"))
            .group_by(templates.c.key)
            .subquery()
        )
        rows = self.conn.execute(
            select(templates.c.key, templates.c.name, templates.c.version, templates.c.published_at)
            .join(
                latest,
                (latest.c.key == templates.c.key) & (latest.c.version == templates.c.version),
            )
            .order_by(templates.c.key)
        )
        drafts = set(self.conn.execute(select(template_drafts.c.key)).scalars())
        return [
            TemplateSummary(r.key, r.name, r.version, r.published_at, r.key in drafts) for r in rows
        ]
