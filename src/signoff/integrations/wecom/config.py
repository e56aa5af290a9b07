"""An app's WeCom settings: the callback credentials and how WeCom approvals map to Signoff.

    corp_id     the corp (企业ID): the receive id every callback must be encrypted for
    token       the callback Token          } secrets: stored, never shown again
    aes_key     the 43-character EncodingAESKey
    secret      the approval app's Secret (optional): with it, form values are fetched from
                WeCom's approval detail API (a callback carries no form values)
    users       how a WeCom user id becomes a principal: `identity` (the directory's
                identity `wecom:user:<userid>`, the default) or `id` (it is the principal id)
    templates   WeCom TemplateId -> {template_key, nodes, fields}: the Signoff template its
                requests are mirrored into; `nodes` names the Signoff approver node of each
                WeCom approval node in order (the rest are `wecom_<n>`); `fields` maps a WeCom
                control id to a form field (`party_b`) or a table column (`items.name`)

Saving the settings gives the app the mapped templates (it hears their events: webhooks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from signoff.domain.errors import CommandInvalid, Problem
from signoff.integrations.wecom.crypto import WecomCrypto, decode_key
from signoff.integrations.wecom.errors import BadKey, WecomNotConfigured
from signoff.service.auth import UnknownApp
from signoff.service.ports import Clock
from signoff.store.integrations import WecomApp
from signoff.store.uow import SqlUnitOfWork

_NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
_PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?", re.I)


class UserMapping(StrEnum):
    IDENTITY = "identity"  # the principal with identity wecom:user:<userid>
    ID = "id"  # the user id is the principal id


@dataclass(frozen=True, slots=True)
class TemplateMapping:
    template_key: str
    nodes: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)  # control id -> field path

    def node_id(self, index: int) -> str:
        """The Signoff node of WeCom's approval node number `index` (from 0)."""
        return self.nodes[index] if index < len(self.nodes) else f"wecom_{index + 1}"

    def to_json(self) -> dict[str, Any]:
        return {
            "template_key": self.template_key,
            "nodes": list(self.nodes),
            "fields": dict(self.fields),
        }


@dataclass(frozen=True, slots=True)
class WecomConfig:
    app_id: str
    corp_id: str
    token: str = field(repr=False)
    aes_key: str = field(repr=False)
    secret: str | None = field(repr=False)
    users: UserMapping
    templates: Mapping[str, TemplateMapping]
    updated_at: datetime
    updated_by: str | None

    @property
    def source(self) -> str:
        """Where mirrored requests come from: their ids are unique within a corp."""
        return f"wecom:{self.corp_id}"

    def crypto(self) -> WecomCrypto:
        return WecomCrypto(self.token, self.aes_key, self.corp_id)

    def public(self) -> dict[str, Any]:
        """What the API shows: everything but the secrets (only whether they are set)."""
        return {
            "app_id": self.app_id,
            "corp_id": self.corp_id,
            "users": self.users.value,
            "templates": {k: m.to_json() for k, m in sorted(self.templates.items())},
            "token_set": bool(self.token),
            "aes_key_set": bool(self.aes_key),
            "secret_set": bool(self.secret),
            "callback_url": f"/integrations/wecom/callback/{self.app_id}",
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


def _from_row(row: WecomApp) -> WecomConfig:
    templates = {
        wecom_id: TemplateMapping(
            m["template_key"], tuple(m.get("nodes") or ()), dict(m.get("fields") or {})
        )
        for wecom_id, m in row.templates.items()
    }
    return WecomConfig(
        row.app_id,
        row.corp_id,
        row.token,
        row.aes_key,
        row.secret,
        UserMapping(row.users),
        templates,
        row.updated_at,
        row.updated_by,
    )


def load_config(uow: SqlUnitOfWork, app_id: str) -> WecomConfig:
    """The app's settings (inside the caller's `with uow`); WecomNotConfigured if none."""
    row = uow.wecom.get(app_id)
    if row is None:
        raise WecomNotConfigured(f"app {app_id!r} has no WeCom settings", app_id=app_id)
    return _from_row(row)


def get_config(uow: SqlUnitOfWork, app_id: str) -> WecomConfig:
    with uow:
        if uow.accounts.get_app(app_id) is None:
            raise UnknownApp(f"no app {app_id!r}", app_id=app_id)
        return load_config(uow, app_id)


def _check_mappings(templates: Mapping[str, TemplateMapping]) -> None:
    problems = []
    for wecom_id, m in templates.items():
        where = f"templates.{wecom_id}"
        if not wecom_id.strip() or len(wecom_id) > 128:
            problems.append(Problem(where, "format", "a WeCom TemplateId"))
        for i, node in enumerate(m.nodes):
            if not _NODE.fullmatch(node) or node in m.nodes[:i]:
                problems.append(Problem(f"{where}.nodes[{i}]", "format", "a node id, once"))
        for control, path in m.fields.items():
            if not control or not _PATH.fullmatch(path):
                problems.append(
                    Problem(f"{where}.fields.{control}", "format", "a field id or table.column")
                )
    if problems:
        raise CommandInvalid("the WeCom template mapping is malformed", problems)


def put_config(
    uow: SqlUnitOfWork,
    clock: Clock,
    app_id: str,
    *,
    corp_id: str,
    token: str | None,
    aes_key: str | None,
    secret: str | None,
    users: UserMapping,
    templates: Mapping[str, TemplateMapping],
    by: str | None,
) -> WecomConfig:
    """Save an app's settings. A secret left out (None) keeps the one saved before."""
    _check_mappings(templates)
    with uow:
        if uow.accounts.get_app(app_id) is None:
            raise UnknownApp(f"no app {app_id!r}", app_id=app_id)
        before = uow.wecom.get(app_id)
        token = token if token is not None else (before.token if before else None)
        aes_key = aes_key if aes_key is not None else (before.aes_key if before else None)
        if secret is None and before is not None:
            secret = before.secret
        if not token or not aes_key:
            raise BadKey("the callback Token and EncodingAESKey are needed the first time")
        decode_key(aes_key)  # BadKey unless it is a usable EncodingAESKey
        other = uow.wecom.by_corp(corp_id)
        if other is not None and other.app_id != app_id:
            raise CommandInvalid(
                f"corp {corp_id!r} is already set up for app {other.app_id!r}", corp_id=corp_id
            )
        for mapping in templates.values():
            uow.templates.get(mapping.template_key)  # UnknownTemplate if nobody published it
        row = WecomApp(
            app_id,
            corp_id,
            token,
            aes_key,
            secret or None,
            users.value,
            {k: m.to_json() for k, m in templates.items()},
            clock.now(),
            by,
        )
        uow.wecom.put(row)
        for key in sorted({m.template_key for m in templates.values()}):
            uow.accounts.grant_template(app_id, key)  # once: it keeps what it has
        uow.commit()
    return _from_row(row)
