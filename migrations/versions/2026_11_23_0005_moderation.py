"""moderation: flags, watched words, community settings, moderation state on members, posts
and topics, and the audit log's before/after and concerned member

Revision ID: 0005
Revises: 0008
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "community_settings",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("updated_by_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["members.id"],
            name=op.f("fk_community_settings_updated_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_community_settings")),
    )
    op.create_table(
        "word_filters",
        sa.Column("pattern", sa.String(length=100), nullable=False),
        sa.Column("normalized", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("replacement", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_word_filters_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_word_filters")),
        sa.UniqueConstraint("normalized", name=op.f("uq_word_filters_normalized")),
    )
    op.create_table(
        "flags",
        sa.Column("post_id", ID, nullable=False),
        sa.Column("flagger_id", ID, nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by_id", ID, nullable=True),
        sa.Column("id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["flagger_id"],
            ["members.id"],
            name=op.f("fk_flags_flagger_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_flags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["members.id"],
            name=op.f("fk_flags_resolved_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        sa.UniqueConstraint("post_id", "flagger_id", name=op.f("uq_flags_post_id_flagger_id")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index("ix_flags_flagger_id_id", ["flagger_id", "id"], unique=False)
        batch_op.create_index("ix_flags_status_post_id", ["status", "post_id"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silenced_until", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("silence_reason", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("suspended_until", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("suspend_reason", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("flags_accepted", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("flags_rejected", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("hidden_by_id", ID, nullable=True))
        batch_op.add_column(
            sa.Column("hidden_reason", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("needs_approval", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_posts_hidden_by_id_members"),
            "members",
            ["hidden_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_posts_needs_approval"), ["needs_approval"], unique=False
        )

    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hidden_at", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("needs_approval", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("closed_at", WHEN, nullable=True))
        batch_op.add_column(
            sa.Column("closed_reason", sa.String(length=500), server_default="", nullable=False)
        )

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("after", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("subject_member_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_subject_member_id_members"),
            "members",
            ["subject_member_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_audit_log_action_id", ["action", "id"], unique=False)
        batch_op.create_index(
            "ix_audit_log_subject_member_id_id", ["subject_member_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_subject_member_id_id")
        batch_op.drop_index("ix_audit_log_action_id")
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_subject_member_id_members"), type_="foreignkey"
        )
        batch_op.drop_column("subject_member_id")
        batch_op.drop_column("after")
        batch_op.drop_column("before")

    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("needs_approval")
        batch_op.drop_column("hidden_at")

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_needs_approval"))
        batch_op.drop_constraint(batch_op.f("fk_posts_hidden_by_id_members"), type_="foreignkey")
        batch_op.drop_column("needs_approval")
        batch_op.drop_column("hidden_reason")
        batch_op.drop_column("hidden_by_id")
        batch_op.drop_column("hidden_at")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("flags_rejected")
        batch_op.drop_column("flags_accepted")
        batch_op.drop_column("suspend_reason")
        batch_op.drop_column("suspended_until")
        batch_op.drop_column("silence_reason")
        batch_op.drop_column("silenced_until")

    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_status_post_id")
        batch_op.drop_index("ix_flags_flagger_id_id")
    op.drop_table("flags")
    op.drop_table("word_filters")
    op.drop_table("community_settings")
