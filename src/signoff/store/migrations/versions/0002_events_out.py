"""events out: notices in the outbox, the relay, deliveries, feeds, timers, delegation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Outbox rows before this revision copied every domain event and nothing ever delivered
them; they are dropped (the audit trail keeps every event). From now on the outbox holds
notices (signoff.domain.notices).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

import signoff.store.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=False),
        sa.Column(
            "template_keys",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("starts_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    with op.batch_alter_table("delegations", schema=None) as batch_op:
        batch_op.create_index("ix_delegations_principal", ["principal_id", "ends_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("sink", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_until", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "event_id", "sink", "target", name=op.f("uq_deliveries_event_id_sink_target")
        ),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_due", ["sink", "status", "next_attempt_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_deliveries_order", ["sink", "target", "instance_id", "status", "id"], unique=False
        )

    op.create_table(
        "feeds",
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("principal_id", "position", name=op.f("pk_feeds")),
    )
    op.create_table(
        "presence",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", "principal_id", name=op.f("pk_presence")),
    )
    op.create_table(
        "relay_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_state")),
    )
    op.create_table(
        "work_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_calendar")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "event_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "secrets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", signoff.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_webhook_endpoints_app_id_apps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_endpoints_app", ["app_id"], unique=False)

    op.bulk_insert(
        sa.table("relay_state", sa.column("id"), sa.column("position")), [{"id": 1, "position": 0}]
    )
    op.execute("DELETE FROM outbox")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acts_as", sa.String(length=64), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_key", sa.String(length=64), nullable=False))
        batch_op.add_column(
            sa.Column("at", signoff.store.schema.UTCDateTime(timezone=True), nullable=False)
        )
        batch_op.add_column(sa.Column("actor", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "audience",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "data",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_outbox_pending"))
        batch_op.create_index(
            "ix_outbox_unrelayed",
            ["id"],
            unique=False,
            sqlite_where=sa.text("position IS NULL"),
            postgresql_where=sa.text("position IS NULL"),
        )
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_position"), ["position"])
        batch_op.drop_column("last_error")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("payload")
        batch_op.drop_column("status")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_tasks_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("acts_as")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_due")
        batch_op.drop_column("reminders")

    op.execute("DELETE FROM outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.INTEGER(), nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DATETIME(), nullable=False))
        batch_op.add_column(sa.Column("status", sa.VARCHAR(length=16), nullable=False))
        batch_op.add_column(sa.Column("payload", sqlite.JSON(), nullable=False))
        batch_op.add_column(sa.Column("created_at", sa.DATETIME(), nullable=False))
        batch_op.add_column(sa.Column("delivered_at", sa.DATETIME(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.TEXT(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_outbox_position"), type_="unique")
        batch_op.drop_index(
            "ix_outbox_unrelayed",
            sqlite_where=sa.text("position IS NULL"),
            postgresql_where=sa.text("position IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_pending"), ["status", "next_attempt_at", "id"], unique=False
        )
        batch_op.drop_column("position")
        batch_op.drop_column("data")
        batch_op.drop_column("audience")
        batch_op.drop_column("actor")
        batch_op.drop_column("at")
        batch_op.drop_column("template_key")

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_endpoints_app")

    op.drop_table("webhook_endpoints")
    op.drop_table("work_calendar")
    op.drop_table("relay_state")
    op.drop_table("presence")
    op.drop_table("feeds")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_order")
        batch_op.drop_index("ix_deliveries_due")

    op.drop_table("deliveries")
    with op.batch_alter_table("delegations", schema=None) as batch_op:
        batch_op.drop_index("ix_delegations_principal")

    op.drop_table("delegations")
