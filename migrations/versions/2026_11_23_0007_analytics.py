"""analytics: daily rollups, member scores, ambassadors, segments, NPS surveys, member import

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23 12:01:32.483662
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("verb", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "verb", name=op.f("pk_analytics_daily")),
    )
    op.create_table(
        "ambassador_status_changes",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_status", sa.String(length=12), nullable=False),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_ambassador_status_changes_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_ambassador_status_changes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambassador_status_changes")),
    )
    with op.batch_alter_table("ambassador_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ambassador_status_changes_member_id_id", ["member_id", "id"], unique=False
        )

    op.create_table(
        "analytics_member_daily",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("verb", sa.String(length=40), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_analytics_member_daily_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "day", "verb", name=op.f("pk_analytics_member_daily")),
    )
    with op.batch_alter_table("analytics_member_daily", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_member_daily_day_member_id", ["day", "member_id"], unique=False
        )

    op.create_table(
        "analytics_member_scores",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("heat_base", sa.Double(), nullable=False),
        sa.Column("last_active_day", sa.Date(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("contribution", sa.Integer(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=False),
        sa.Column("f_score", sa.Integer(), nullable=False),
        sa.Column("m_score", sa.Integer(), nullable=False),
        sa.Column("rfm_group", sa.String(length=16), nullable=False),
        sa.Column("decile", sa.Integer(), nullable=True),
        sa.Column("advocate_type", sa.String(length=16), nullable=False),
        sa.Column("detection", sa.String(length=12), nullable=False),
        sa.Column("ambassador_status", sa.String(length=12), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("latest_nps", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_analytics_member_scores_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_analytics_member_scores")),
    )
    with op.batch_alter_table("analytics_member_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_member_scores_ambassador_status", ["ambassador_status"], unique=False
        )
        batch_op.create_index("ix_analytics_member_scores_detection", ["detection"], unique=False)
        batch_op.create_index("ix_analytics_member_scores_heat_base", ["heat_base"], unique=False)

    op.create_table(
        "analytics_segments",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_analytics_segments_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_analytics_segments_name")),
    )
    op.create_table(
        "analytics_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("top_deciles", sa.Integer(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("min_reach", sa.Integer(), nullable=False),
        sa.Column("exclude_detractors", sa.Boolean(), nullable=False),
        sa.Column("badge_enabled", sa.Boolean(), nullable=False),
        sa.Column("badge_label", sa.String(length=40), nullable=False),
        sa.Column("monthly_decay", sa.Double(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["members.id"],
            name=op.f("fk_analytics_settings_updated_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_settings")),
    )
    op.create_table(
        "analytics_touches",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("other_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_analytics_touches_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["members.id"],
            name=op.f("fk_analytics_touches_other_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "other_id", name=op.f("pk_analytics_touches")),
    )
    with op.batch_alter_table("analytics_touches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_touches_member_id_last_day", ["member_id", "last_day"], unique=False
        )

    op.create_table(
        "member_external",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("purchase_count", sa.Integer(), nullable=True),
        sa.Column("purchase_total_minor", sa.BigInteger(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_external_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_external")),
        sa.UniqueConstraint("external_id", name=op.f("uq_member_external_external_id")),
    )
    op.create_table(
        "analytics_questions",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("asker_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("asked_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_day", sa.Date(), nullable=False),
        sa.Column("answered_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_day", sa.Date(), nullable=True),
        sa.Column("first_answer_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asker_id"],
            ["members.id"],
            name=op.f("fk_analytics_questions_asker_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_analytics_questions_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", name=op.f("pk_analytics_questions")),
    )
    with op.batch_alter_table("analytics_questions", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_questions_answered_day", ["answered_day"], unique=False)
        batch_op.create_index("ix_analytics_questions_asked_day", ["asked_day"], unique=False)

    op.create_table(
        "nps_surveys",
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("reason_question", sa.String(length=300), nullable=False),
        sa.Column("extra_questions", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column(
            "segment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "min_rank_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("opens_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_nps_surveys_created_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["min_rank_id"],
            ["ranks.id"],
            name=op.f("fk_nps_surveys_min_rank_id_ranks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["analytics_segments.id"],
            name=op.f("fk_nps_surveys_segment_id_analytics_segments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_surveys")),
    )
    with op.batch_alter_table("nps_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_nps_surveys_opens_at", ["opens_at"], unique=False)

    op.create_table(
        "nps_responses",
        sa.Column(
            "survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extra_answers", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_nps_responses_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["nps_surveys.id"],
            name=op.f("fk_nps_responses_survey_id_nps_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nps_responses")),
        sa.UniqueConstraint(
            "survey_id", "member_id", name=op.f("uq_nps_responses_survey_id_member_id")
        ),
    )
    with op.batch_alter_table("nps_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nps_responses_member_id_created_at", ["member_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_nps_responses_survey_id_category_id", ["survey_id", "category", "id"], unique=False
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ambassador_badge", sa.String(length=40), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("ambassador_badge")

    with op.batch_alter_table("nps_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_nps_responses_survey_id_category_id")
        batch_op.drop_index("ix_nps_responses_member_id_created_at")

    op.drop_table("nps_responses")
    with op.batch_alter_table("nps_surveys", schema=None) as batch_op:
        batch_op.drop_index("ix_nps_surveys_opens_at")

    op.drop_table("nps_surveys")
    with op.batch_alter_table("analytics_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_questions_asked_day")
        batch_op.drop_index("ix_analytics_questions_answered_day")

    op.drop_table("analytics_questions")
    op.drop_table("member_external")
    with op.batch_alter_table("analytics_touches", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_touches_member_id_last_day")

    op.drop_table("analytics_touches")
    op.drop_table("analytics_settings")
    op.drop_table("analytics_segments")
    with op.batch_alter_table("analytics_member_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_member_scores_heat_base")
        batch_op.drop_index("ix_analytics_member_scores_detection")
        batch_op.drop_index("ix_analytics_member_scores_ambassador_status")

    op.drop_table("analytics_member_scores")
    with op.batch_alter_table("analytics_member_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_member_daily_day_member_id")

    op.drop_table("analytics_member_daily")
    with op.batch_alter_table("ambassador_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_ambassador_status_changes_member_id_id")

    op.drop_table("ambassador_status_changes")
    op.drop_table("analytics_daily")
