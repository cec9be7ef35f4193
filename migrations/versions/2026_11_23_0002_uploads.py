"""uploads: images in posts and avatars

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("storage_name", sa.String(length=40), nullable=False),
        sa.Column(
            "uploader_member_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploader_member_id"],
            ["members.id"],
            name=op.f("fk_uploads_uploader_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_uploads_storage_name")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_uploads_uploader_member_id_created_at",
            ["uploader_member_id", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "avatar_upload_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_members_avatar_upload_id"), ["avatar_upload_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_members_avatar_upload_id_uploads"),
            "uploads",
            ["avatar_upload_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_members_avatar_upload_id_uploads"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_members_avatar_upload_id"))
        batch_op.drop_column("avatar_upload_id")

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_uploader_member_id_created_at")

    op.drop_table("uploads")
