"""notifications, preferences, webhooks; unread counter and HTML mail columns

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-23 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = app.models.base.UTCDateTime(timezone=True)
UNREAD_GROUP = "read_at IS NULL AND group_key IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("actor_count", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=True),
        sa.Column("subject_id", ID, nullable=True),
        sa.Column("topic_id", ID, nullable=True),
        sa.Column("group_key", sa.String(length=80), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("emailed_at", WHEN, nullable=True),
        sa.Column("digested_at", WHEN, nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_notifications_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notifications_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_member_id_digested_at", ["member_id", "digested_at"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_member_id_updated_at_id",
            ["member_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_notifications_unread_group",
            ["member_id", "group_key"],
            unique=True,
            sqlite_where=sa.text(UNREAD_GROUP),
            postgresql_where=sa.text(UNREAD_GROUP),
        )

    op.create_table(
        "notification_preferences",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_notification_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "member_id", "kind", name=op.f("uq_notification_preferences_member_id_kind")
        ),
    )

    op.create_table(
        "webhooks",
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("events", sa.String(length=500), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_webhooks_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_deliveries_webhook_id_id", ["webhook_id", "id"], unique=False
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unread_notifications", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_html", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("unsubscribe_url", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_column("unsubscribe_url")
        batch_op.drop_column("body_html")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("unread_notifications")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_webhook_id_id")
        batch_op.drop_index("ix_webhook_deliveries_status_next_attempt_at")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_notifications_unread_group",
            sqlite_where=sa.text(UNREAD_GROUP),
            postgresql_where=sa.text(UNREAD_GROUP),
        )
        batch_op.drop_index("ix_notifications_member_id_updated_at_id")
        batch_op.drop_index("ix_notifications_member_id_digested_at")
    op.drop_table("notifications")
