"""The tables. One schema for SQLite and PostgreSQL (JSON is JSONB on PostgreSQL).

Hot paths and the indexes that serve them:
- a person's pending / done tasks: `ix_tasks_inbox` (assignee, status, created_at, id) and
  `ix_tasks_done` (assignee, acted_at, id): keyset paging walks the index, counts are
  index-only;
- CC'd to me: `ix_ccs_person` (principal_id, at, instance_id);
- my requests: `ix_instances_applicant` (applicant_id, created_at, id);
- an instance's tasks and audit trail: by instance id;
- timers: `ix_tasks_due` (status, due_at);
- the outbox relay: `ix_outbox_unrelayed` (id, only rows without a position); deliveries
  due: `ix_deliveries_due`; a person's WebSocket feed: `feeds` (principal_id, position).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _id(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(64), *args, **kw)


templates = Table(
    "templates",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("definition", Json, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("published_by", String(64)),
)

template_drafts = Table(
    "template_drafts",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("definition", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64)),
)

instances = Table(
    "instances",
    metadata,
    _id(primary_key=True),
    Column("template_key", String(64), nullable=False),
    Column("template_version", Integer, nullable=False),
    _id("applicant_id", nullable=False),
    Column("status", String(16), nullable=False),
    Column("serial", String(64), nullable=True),
    Column("title", String(200), nullable=False, default=""),
    Column("form", Json, nullable=False),
    Column("state", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("audit_head", String(64), nullable=True),  # hash of the newest audit row
    Column("created_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_instances_applicant", "applicant_id", "created_at", "id"),
    Index("ix_instances_template_status", "template_key", "status", "created_at"),
    UniqueConstraint("serial"),
)

tasks = Table(
    "tasks",
    metadata,
    _id(primary_key=True),
    _id("instance_id", ForeignKey("instances.id"), nullable=False),
    Column("template_key", String(64), nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("lane", Integer, nullable=False),
    _id("assignee", nullable=False),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    _id("origin", nullable=True),
    _id("on_behalf_of", nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("acted_at", UTCDateTime, nullable=True),
    Column("comment", Text, nullable=True),
    Column("auto", String(32), nullable=True),
    Column("cancel_reason", String(32), nullable=True),
    Column("read_at", UTCDateTime, nullable=True),
    Column("reminders", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_tasks_inbox", "assignee", "status", "created_at", "id"),
    Index("ix_tasks_done", "assignee", "acted_at", "id"),
    Index("ix_tasks_instance", "instance_id"),
    Index("ix_tasks_due", "status", "due_at"),
)

ccs = Table(
    "ccs",
    metadata,
    _id("instance_id", ForeignKey("instances.id"), primary_key=True),
    _id("principal_id", primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_ccs_person", "principal_id", "at", "instance_id"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _id("instance_id", nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_id", String(80), nullable=False),
    Column("type", String(40), nullable=False),
    _id("actor", nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("data", Json, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("instance_id", "seq"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(80), nullable=False, unique=True),
    _id("instance_id", nullable=False),
    Column("template_key", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    _id("actor", nullable=True),
    Column("audience", Json, nullable=False),
    Column("data", Json, nullable=False),
    # set by the relay, gap-free and in commit order: what WebSocket clients resume from
    Column("position", BigInteger, nullable=True, unique=True),
    Index(
        "ix_outbox_unrelayed",
        "id",
        sqlite_where=text("position IS NULL"),
        postgresql_where=text("position IS NULL"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _id("actor", primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("command_hash", String(64), nullable=False),
    _id("instance_id", nullable=True),
    Column("response", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

serial_counters = Table(
    "serial_counters",
    metadata,
    Column("period", String(80), primary_key=True),
    Column("value", Integer, nullable=False),
)

directory_version = Table(
    "directory_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
)

departments = Table(
    "departments",
    metadata,
    _id(primary_key=True),
    Column("name", String(200), nullable=False),
    _id("parent_id", nullable=True),
    Index("ix_departments_parent", "parent_id"),
)

department_heads = Table(
    "department_heads",
    metadata,
    _id("department_id", ForeignKey("departments.id"), primary_key=True),
    _id("principal_id", primary_key=True),
    Column("rank", Integer, nullable=False),
)

principals = Table(
    "principals",
    metadata,
    _id(primary_key=True),
    Column("name", String(200), nullable=False),
    _id("department_id", nullable=True),
    Column("position", String(64), nullable=True),
    Column("email", String(254), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Index("ix_principals_position", "position"),
    Index("ix_principals_department", "department_id"),
)

principal_roles = Table(
    "principal_roles",
    metadata,
    _id("principal_id", ForeignKey("principals.id"), primary_key=True),
    Column("role", String(64), primary_key=True),
    Index("ix_principal_roles_role", "role", "principal_id"),
)

identities = Table(
    "identities",
    metadata,
    Column("identity", String(200), primary_key=True),
    _id("principal_id", ForeignKey("principals.id"), nullable=False),
    Index("ix_identities_principal", "principal_id"),
)

accounts = Table(
    "accounts",
    metadata,
    _id("principal_id", ForeignKey("principals.id"), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _id("principal_id", nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_refresh_tokens_principal", "principal_id"),
)

apps = Table(
    "apps",
    metadata,
    _id(primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    _id("acts_as", nullable=True),  # the principal whose tasks it may act on
)

app_templates = Table(
    "app_templates",
    metadata,
    _id("app_id", ForeignKey("apps.id"), primary_key=True),
    Column("template_key", String(64), primary_key=True),
    Index("ix_app_templates_key", "template_key"),
)


# ---- events out (the relay and its sinks; see signoff.events) ---------------------------

relay_state = Table(
    "relay_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),  # the last position given out
)

feeds = Table(  # who hears which relayed notice: what a reconnecting WebSocket replays
    "feeds",
    metadata,
    _id("principal_id", primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Index("ix_feeds_position", "position"),  # forgetting old notices (store/retention.py)
)

deliveries = Table(  # one notice to one receiver of one sink, retried until delivered or dead
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(80), nullable=False),
    _id("instance_id", nullable=False),
    Column("sink", String(16), nullable=False),  # webhook | nats | mail
    Column("target", String(200), nullable=False),  # endpoint id | app id | principal id
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),  # claimed by a worker until then
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("event_id", "sink", "target"),
    Index("ix_deliveries_due", "sink", "status", "next_attempt_at", "id"),
    Index("ix_deliveries_order", "sink", "target", "instance_id", "status", "id"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    _id(primary_key=True),
    _id("app_id", ForeignKey("apps.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("event_types", Json, nullable=False),  # notice types, or ["*"]
    Column("secrets", Json, nullable=False),  # [{"secret": "whsec_...", "expires_at": ...}]
    Column("description", String(200), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    Index("ix_webhook_endpoints_app", "app_id"),
)

presence = Table(  # open WebSocket connections, per server node: who gets no e-mail
    "presence",
    metadata,
    Column("node", String(64), primary_key=True),
    _id("principal_id", primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
)

delegations = Table(  # out of office: new tasks of `principal_id` go to `delegate_id`
    "delegations",
    metadata,
    _id(primary_key=True),
    _id("principal_id", nullable=False),
    _id("delegate_id", nullable=False),
    Column("template_keys", Json, nullable=True),  # None: every template
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_delegations_principal", "principal_id", "ends_at"),
)

work_calendar = Table(  # the company's working hours, holidays and make-up days (one row)
    "work_calendar",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("definition", Json, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    _id("updated_by", nullable=True),
)


# ---- documents: Word templates per template, documents made from approved requests --------

document_templates = Table(  # signoff.documents: one per template key and first version
    "document_templates",
    metadata,
    Column("template_key", String(64), primary_key=True),
    Column("from_version", Integer, primary_key=True),  # the template version it applies from
    Column("filename", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("placeholders", Json, nullable=False),  # sorted names
    Column("generate", Boolean, nullable=False),  # made when a request is approved
    Column("pdf", Boolean, nullable=False),  # also as PDF (LibreOffice)
    Column("uploaded_at", UTCDateTime, nullable=False),
    _id("uploaded_by", nullable=True),
)

documents = Table(  # one per approved request whose template makes one: pending, done, failed
    "documents",
    metadata,
    _id(primary_key=True),
    _id("instance_id", nullable=False),
    Column("event_id", String(80), nullable=False, unique=True),  # the approval that asked
    Column("template_key", String(64), nullable=False),
    Column("from_version", Integer, nullable=False),  # which document template
    Column("status", String(16), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("docx", LargeBinary, nullable=True),
    Column("pdf", LargeBinary, nullable=True),
    Column("pdf_wanted", Boolean, nullable=False),
    Column("pdf_note", Text, nullable=True),  # why there is no PDF
    Column("error", Json, nullable=True),  # {code, message, placeholders}
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_documents_instance", "instance_id", "created_at"),
    Index("ix_documents_status", "status", "id"),
)

document_state = Table(  # how far the document step has read the relayed outbox (one row)
    "document_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)


# ---- integrations: WeCom apps, mirrored requests, callback nonces -------------------------

wecom_apps = Table(  # an app's WeCom callback settings (signoff.integrations.wecom)
    "wecom_apps",
    metadata,
    _id("app_id", ForeignKey("apps.id"), primary_key=True),
    Column("corp_id", String(64), nullable=False),
    Column("token", String(64), nullable=False),  # secret: never returned by the API
    Column("aes_key", String(64), nullable=False),  # secret: never returned by the API
    Column("secret", String(200), nullable=True),  # the approval app's Secret: never returned
    Column("users", String(16), nullable=False),  # how WeCom user ids map to principals
    Column("templates", Json, nullable=False),  # WeCom TemplateId -> mapping
    Column("updated_at", UTCDateTime, nullable=False),
    _id("updated_by", nullable=True),
    UniqueConstraint("corp_id"),
)

external_links = Table(  # instances mirrored from another system, by that system's id
    "external_links",
    metadata,
    Column("source", String(80), primary_key=True),  # "wecom:<corp id>"
    Column("external_id", String(80), primary_key=True),  # WeCom's SpNo
    _id("instance_id", nullable=False, unique=True),
    _id("app_id", nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

callback_nonces = Table(  # signed callbacks already accepted: replays are refused
    "callback_nonces",
    metadata,
    Column("source", String(80), primary_key=True),  # the app whose callback it was
    Column("nonce", String(64), primary_key=True),
    Column("timestamp", String(20), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_callback_nonces_expires", "expires_at"),
)
