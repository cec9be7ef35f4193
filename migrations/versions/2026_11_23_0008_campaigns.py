"""campaigns: member-only campaigns, rewards and product reviews

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-23 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("title_en", sa.String(length=140), nullable=False),
        sa.Column("title_ja", sa.String(length=140), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column("description_en_html", sa.Text(), nullable=False),
        sa.Column("description_ja_html", sa.Text(), nullable=False),
        sa.Column(
            "cover_upload_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("starts_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column(
            "audience_rank_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "audience_segment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("teaser", sa.Boolean(), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("lottery_seed", sa.String(length=64), nullable=True),
        sa.Column("drawn_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fatigue_limit", sa.Integer(), nullable=True),
        sa.Column("fatigue_days", sa.Integer(), nullable=False),
        sa.Column("fatigue_since", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("announced_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_rank_id"],
            ["ranks.id"],
            name=op.f("fk_campaigns_audience_rank_id_ranks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cover_upload_id"],
            ["uploads.id"],
            name=op.f("fk_campaigns_cover_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_campaigns_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_state_id", ["state", "id"], unique=False)

    op.create_table(
        "campaign_questions",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prompt_en", sa.String(length=300), nullable=False),
        sa.Column("prompt_ja", sa.String(length=300), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_questions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_questions")),
    )

    with op.batch_alter_table("campaign_questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_questions_campaign_id_position", ["campaign_id", "position"], unique=False
        )

    op.create_table(
        "campaign_entries",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_entries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_campaign_entries_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_entries")),
        sa.UniqueConstraint(
            "campaign_id", "member_id", name=op.f("uq_campaign_entries_campaign_id_member_id")
        ),
    )

    with op.batch_alter_table("campaign_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_entries_campaign_id_id", ["campaign_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_entries_member_id_created_at", ["member_id", "created_at"], unique=False
        )

    op.create_table(
        "campaign_entry_photos",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "upload_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["campaign_entries.id"],
            name=op.f("fk_campaign_entry_photos_entry_id_campaign_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_campaign_entry_photos_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_entry_photos")),
        sa.UniqueConstraint(
            "entry_id", "upload_id", name=op.f("uq_campaign_entry_photos_entry_id_upload_id")
        ),
    )

    op.create_table(
        "campaign_invites",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("invited", sa.Boolean(), nullable=False),
        sa.Column("asked_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_invites_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_campaign_invites_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_invites")),
        sa.UniqueConstraint(
            "campaign_id", "member_id", name=op.f("uq_campaign_invites_campaign_id_member_id")
        ),
    )

    with op.batch_alter_table("campaign_invites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_invites_member_id_asked_at", ["member_id", "asked_at"], unique=False
        )

    op.create_table(
        "campaign_views",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("viewed_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_views_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_campaign_views_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_views")),
        sa.UniqueConstraint(
            "campaign_id", "member_id", name=op.f("uq_campaign_views_campaign_id_member_id")
        ),
    )

    op.create_table(
        "rewards",
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_ja", sa.String(length=120), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column(
            "image_upload_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column(
            "min_rank_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint("cost > 0", name=op.f("ck_rewards_cost_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_rewards_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["image_upload_id"],
            ["uploads.id"],
            name=op.f("fk_rewards_image_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["min_rank_id"],
            ["ranks.id"],
            name=op.f("fk_rewards_min_rank_id_ranks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )

    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index("ix_rewards_active_cost", ["active", "cost"], unique=False)

    op.create_table(
        "redemptions",
        sa.Column(
            "reward_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column(
            "decided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("decided_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["members.id"],
            name=op.f("fk_redemptions_decided_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_redemptions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["rewards.id"],
            name=op.f("fk_redemptions_reward_id_rewards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )

    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index("ix_redemptions_member_id_id", ["member_id", "id"], unique=False)
        batch_op.create_index("ix_redemptions_status_id", ["status", "id"], unique=False)

    op.create_table(
        "products",
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_ja", sa.String(length=120), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column(
            "image_upload_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_upload_id"],
            ["uploads.id"],
            name=op.f("fk_products_image_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )

    op.create_table(
        "product_reviews",
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_product_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_product_reviews_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_reviews_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_reviews")),
        sa.UniqueConstraint(
            "product_id", "member_id", name=op.f("uq_product_reviews_product_id_member_id")
        ),
    )

    with op.batch_alter_table("product_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_reviews_product_id_id", ["product_id", "id"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    op.drop_table("product_reviews")
    op.drop_table("products")
    op.drop_table("redemptions")
    op.drop_table("rewards")
    op.drop_table("campaign_views")
    op.drop_table("campaign_invites")
    op.drop_table("campaign_entry_photos")
    op.drop_table("campaign_entries")
    op.drop_table("campaign_questions")
    op.drop_table("campaigns")
