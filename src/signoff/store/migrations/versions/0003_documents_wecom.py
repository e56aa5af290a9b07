"""documents and WeCom: Word templates, generated documents, WeCom apps, mirrored requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

The document step starts reading the relayed outbox where it stands now: requests approved
before this revision get no document (no template could have asked for one).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import signoff.store.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DATETIME = signoff.store.schema.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "document_templates",
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("placeholders", _json(), nullable=False),
        sa.Column("generate", sa.Boolean(), nullable=False),
        sa.Column("pdf", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", UTC_DATETIME, nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("template_key", "from_version", name=op.f("pk_document_templates")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("docx", sa.LargeBinary(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_wanted", sa.Boolean(), nullable=False),
        sa.Column("pdf_note", sa.Text(), nullable=True),
        sa.Column("error", _json(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("event_id", name=op.f("uq_documents_event_id")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_instance", ["instance_id", "created_at"], unique=False)
        batch_op.create_index("ix_documents_status", ["status", "id"], unique=False)

    op.create_table(
        "document_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_state")),
    )
    op.execute(
        "INSERT INTO document_state (id, position) SELECT 1, COALESCE(MAX(position), 0) FROM outbox"
    )

    op.create_table(
        "wecom_apps",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("corp_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("aes_key", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("users", sa.String(length=16), nullable=False),
        sa.Column("templates", _json(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name=op.f("fk_wecom_apps_app_id_apps")),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_wecom_apps")),
        sa.UniqueConstraint("corp_id", name=op.f("uq_wecom_apps_corp_id")),
    )
    op.create_table(
        "external_links",
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("pk_external_links")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_external_links_instance_id")),
    )
    op.create_table(
        "callback_nonces",
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=20), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("source", "nonce", "timestamp", name=op.f("pk_callback_nonces")),
    )
    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.create_index("ix_callback_nonces_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_nonces_expires")
    op.drop_table("callback_nonces")
    op.drop_table("external_links")
    op.drop_table("wecom_apps")
    op.drop_table("document_state")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_status")
        batch_op.drop_index("ix_documents_instance")
    op.drop_table("documents")
    op.drop_table("document_templates")
