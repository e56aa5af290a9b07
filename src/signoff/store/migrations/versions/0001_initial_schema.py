"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import signoff.store.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "apps",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_apps_key_hash")),
    )
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
        sa.UniqueConstraint("instance_id", "seq", name=op.f("uq_audit_instance_id_seq")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
    )
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.create_index("ix_departments_parent", ["parent_id"], unique=False)

    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("command_hash", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=True),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "form",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=True),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.UniqueConstraint("serial", name=op.f("uq_instances_serial")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instances_applicant", ["applicant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_instances_template_status", ["template_key", "status", "created_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("delivered_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending", ["status", "next_attempt_at", "id"], unique=False
        )

    op.create_table(
        "principals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=True),
        sa.Column("position", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principals")),
    )
    with op.batch_alter_table("principals", schema=None) as batch_op:
        batch_op.create_index("ix_principals_department", ["department_id"], unique=False)
        batch_op.create_index("ix_principals_position", ["position"], unique=False)

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_tokens")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_refresh_tokens_principal", ["principal_id"], unique=False)

    op.create_table(
        "serial_counters",
        sa.Column("period", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_serial_counters")),
    )
    op.create_table(
        "template_drafts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_template_drafts")),
    )
    op.create_table(
        "templates",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("key", "version", name=op.f("pk_templates")),
    )
    op.create_table(
        "accounts",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["principals.id"], name=op.f("fk_accounts_principal_id_principals")
        ),
        sa.PrimaryKeyConstraint("principal_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "app_templates",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_app_templates_app_id_apps")),
        sa.PrimaryKeyConstraint("app_id", "template_key", name=op.f("pk_app_templates")),
    )
    with op.batch_alter_table("app_templates", schema=None) as batch_op:
        batch_op.create_index("ix_app_templates_key", ["template_key"], unique=False)

    op.create_table(
        "ccs",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_ccs_instance_id_instances")
        ),
        sa.PrimaryKeyConstraint("instance_id", "principal_id", name=op.f("pk_ccs")),
    )
    with op.batch_alter_table("ccs", schema=None) as batch_op:
        batch_op.create_index("ix_ccs_person", ["principal_id", "at", "instance_id"], unique=False)

    op.create_table(
        "department_heads",
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_department_heads_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("department_id", "principal_id", name=op.f("pk_department_heads")),
    )
    op.create_table(
        "identities",
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["principals.id"], name=op.f("fk_identities_principal_id_principals")
        ),
        sa.PrimaryKeyConstraint("identity", name=op.f("pk_identities")),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index("ix_identities_principal", ["principal_id"], unique=False)

    op.create_table(
        "principal_roles",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_principal_roles_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("principal_id", "role", name=op.f("pk_principal_roles")),
    )
    with op.batch_alter_table("principal_roles", schema=None) as batch_op:
        batch_op.create_index("ix_principal_roles_role", ["role", "principal_id"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("on_behalf_of", sa.String(length=64), nullable=True),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acted_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("auto", sa.String(length=32), nullable=True),
        sa.Column("cancel_reason", sa.String(length=32), nullable=True),
        sa.Column("read_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_tasks_instance_id_instances")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_done", ["assignee", "acted_at", "id"], unique=False)
        batch_op.create_index(
            "ix_tasks_inbox", ["assignee", "status", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_tasks_instance", ["instance_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_instance")
        batch_op.drop_index("ix_tasks_inbox")
        batch_op.drop_index("ix_tasks_done")

    op.drop_table("tasks")
    with op.batch_alter_table("principal_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_principal_roles_role")

    op.drop_table("principal_roles")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index("ix_identities_principal")

    op.drop_table("identities")
    op.drop_table("department_heads")
    with op.batch_alter_table("ccs", schema=None) as batch_op:
        batch_op.drop_index("ix_ccs_person")

    op.drop_table("ccs")
    with op.batch_alter_table("app_templates", schema=None) as batch_op:
        batch_op.drop_index("ix_app_templates_key")

    op.drop_table("app_templates")
    op.drop_table("accounts")
    op.drop_table("templates")
    op.drop_table("template_drafts")
    op.drop_table("serial_counters")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_refresh_tokens_principal")

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("principals", schema=None) as batch_op:
        batch_op.drop_index("ix_principals_position")
        batch_op.drop_index("ix_principals_department")

    op.drop_table("principals")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index("ix_instances_template_status")
        batch_op.drop_index("ix_instances_applicant")

    op.drop_table("instances")
    op.drop_table("idempotency_keys")
    op.drop_table("directory_version")
    with op.batch_alter_table("departments", schema=None) as batch_op:
        batch_op.drop_index("ix_departments_parent")

    op.drop_table("departments")
    op.drop_table("audit")
    op.drop_table("apps")
