"""points: rules, ledger, period totals, ranks, external awards, audit log, member totals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ranks",
        sa.Column("name_en", sa.String(length=40), nullable=False),
        sa.Column("name_ja", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("badge", sa.String(length=16), nullable=False),
        sa.Column("benefits_en", sa.Text(), nullable=False),
        sa.Column("benefits_ja", sa.Text(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranks")),
        sa.UniqueConstraint("threshold", name=op.f("uq_ranks_threshold")),
    )
    op.create_table(
        "point_rules",
        sa.Column("verb", sa.String(length=40), nullable=False),
        sa.Column("actor_points", sa.Integer(), nullable=False),
        sa.Column("recipient_points", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["members.id"],
            name=op.f("fk_point_rules_updated_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_rules")),
        sa.UniqueConstraint("verb", name=op.f("uq_point_rules_verb")),
    )
    op.create_table(
        "point_ledger",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lifetime_delta", sa.Integer(), nullable=False),
        sa.Column("spendable_delta", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reversal", sa.Boolean(), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=True),
        sa.Column(
            "subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_point_ledger_activity_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_point_ledger_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_point_ledger_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_ledger")),
        sa.UniqueConstraint(
            "rule",
            "source",
            "seq",
            "reversal",
            name=op.f("uq_point_ledger_rule_source_seq_reversal"),
        ),
    )
    with op.batch_alter_table("point_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_point_ledger_member_id_id", ["member_id", "id"], unique=False)
        batch_op.create_index(
            "ix_point_ledger_member_id_kind_day", ["member_id", "kind", "day"], unique=False
        )
        batch_op.create_index(
            "ix_point_ledger_subject", ["subject_type", "subject_id"], unique=False
        )

    op.create_table(
        "point_period_totals",
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_point_period_totals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "period", "start", "member_id", name=op.f("pk_point_period_totals")
        ),
    )
    with op.batch_alter_table("point_period_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_point_period_totals_board",
            ["period", "start", sa.literal_column("points DESC"), "member_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_point_period_totals_member_id", ["member_id", "period", "start"], unique=False
        )

    op.create_table(
        "point_external_awards",
        sa.Column(
            "operator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_point_external_awards_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["members.id"],
            name=op.f("fk_point_external_awards_operator_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_external_awards")),
        sa.UniqueConstraint(
            "operator_id",
            "idempotency_key",
            name=op.f("uq_point_external_awards_operator_id_idempotency_key"),
        ),
    )
    # The audit log's first columns; moderation adds its own (before/after, subject member).
    op.create_table(
        "audit_log",
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=30), nullable=True),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["members.id"],
            name=op.f("fk_audit_log_actor_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_id_id", ["actor_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_audit_log_target", ["target_type", "target_id", "id"], unique=False
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lifetime_points", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("spendable_points", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "rank_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_members_rank_id_ranks"),
            "ranks",
            ["rank_id"],
            ["id"],
            ondelete="SET NULL",
        )

    # The documented defaults (app/points/policy.py), so a new community pays from day one.
    now = datetime.now(UTC)
    op.bulk_insert(
        sa.table(
            "point_rules",
            sa.column("verb", sa.String),
            sa.column("actor_points", sa.Integer),
            sa.column("recipient_points", sa.Integer),
            sa.column("daily_cap", sa.Integer),
            sa.column("enabled", sa.Boolean),
            sa.column("position", sa.Integer),
            sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)),
        ),
        [
            {
                "verb": "member.visited",
                "actor_points": 1,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 0,
                "updated_at": now,
            },
            {
                "verb": "member.signed_up",
                "actor_points": 10,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 1,
                "updated_at": now,
            },
            {
                "verb": "member.profile_completed",
                "actor_points": 10,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 2,
                "updated_at": now,
            },
            {
                "verb": "topic.created",
                "actor_points": 5,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 3,
                "updated_at": now,
            },
            {
                "verb": "post.created",
                "actor_points": 2,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 4,
                "updated_at": now,
            },
            {
                "verb": "answer.created",
                "actor_points": 5,
                "recipient_points": 0,
                "daily_cap": None,
                "enabled": True,
                "position": 5,
                "updated_at": now,
            },
            {
                "verb": "answer.accepted",
                "actor_points": 2,
                "recipient_points": 15,
                "daily_cap": None,
                "enabled": True,
                "position": 6,
                "updated_at": now,
            },
            {
                "verb": "like.given",
                "actor_points": 0,
                "recipient_points": 1,
                "daily_cap": 50,
                "enabled": True,
                "position": 7,
                "updated_at": now,
            },
            {
                "verb": "vote.cast",
                "actor_points": 0,
                "recipient_points": 5,
                "daily_cap": None,
                "enabled": True,
                "position": 8,
                "updated_at": now,
            },
        ],
    )
    op.bulk_insert(
        sa.table(
            "ranks",
            sa.column("name_en", sa.String),
            sa.column("name_ja", sa.String),
            sa.column("threshold", sa.Integer),
            sa.column("colour", sa.String),
            sa.column("badge", sa.String),
            sa.column("benefits_en", sa.Text),
            sa.column("benefits_ja", sa.Text),
            sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)),
        ),
        [
            {
                "name_en": "Newcomer",
                "name_ja": "ビギナー",
                "threshold": 0,
                "colour": "#5c5654",
                "badge": "🌱",
                "benefits_en": "Welcome! Say hello, ask anything, and earn points for taking part.",
                "benefits_ja": "ようこそ！あいさつや質問から始めて、参加するたびにポイントを獲得しましょう。",
                "updated_at": now,
            },
            {
                "name_en": "Regular",
                "name_ja": "レギュラー",
                "threshold": 50,
                "colour": "#1e6b34",
                "badge": "🍀",
                "benefits_en": "Your rank badge appears next to your name everywhere in the community.",
                "benefits_ja": "コミュニティ内のあなたの名前の横にランクバッジが表示されます。",
                "updated_at": now,
            },
            {
                "name_en": "Enthusiast",
                "name_ja": "エンスージアスト",
                "threshold": 200,
                "colour": "#0b57a4",
                "badge": "🔥",
                "benefits_en": "Early access to announcements and new-product news.",
                "benefits_ja": "お知らせや新商品情報をいち早くお届けします。",
                "updated_at": now,
            },
            {
                "name_en": "Supporter",
                "name_ja": "サポーター",
                "threshold": 500,
                "colour": "#6a3fb5",
                "badge": "💎",
                "benefits_en": "Invitations to member-only campaigns and categories.",
                "benefits_ja": "会員限定キャンペーンや限定カテゴリーにご招待します。",
                "updated_at": now,
            },
            {
                "name_en": "Champion",
                "name_ja": "チャンピオン",
                "threshold": 1500,
                "colour": "#b3261e",
                "badge": "🏅",
                "benefits_en": "Invitations to product feedback sessions and member-only events.",
                "benefits_ja": "商品開発の座談会や会員限定イベントにご招待します。",
                "updated_at": now,
            },
            {
                "name_en": "Legend",
                "name_ja": "レジェンド",
                "threshold": 5000,
                "colour": "#8a5a00",
                "badge": "👑",
                "benefits_en": "Featured on the community home, and a first look at new products.",
                "benefits_ja": "コミュニティのトップで紹介され、新商品をいち早く体験できます。",
                "updated_at": now,
            },
        ],
    )
    # Existing members start on the rank their (zero) points give.
    op.execute(
        "UPDATE members SET rank_id = (SELECT id FROM ranks WHERE threshold <= members.lifetime_points "
        "ORDER BY threshold DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_members_rank_id_ranks"), type_="foreignkey")
        batch_op.drop_column("rank_id")
        batch_op.drop_column("spendable_points")
        batch_op.drop_column("lifetime_points")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_target")
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))
        batch_op.drop_index("ix_audit_log_actor_id_id")
    op.drop_table("audit_log")
    op.drop_table("point_external_awards")
    with op.batch_alter_table("point_period_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_point_period_totals_member_id")
        batch_op.drop_index("ix_point_period_totals_board")
    op.drop_table("point_period_totals")
    with op.batch_alter_table("point_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_point_ledger_subject")
        batch_op.drop_index("ix_point_ledger_member_id_kind_day")
        batch_op.drop_index("ix_point_ledger_member_id_id")
    op.drop_table("point_ledger")
    op.drop_table("point_rules")
    op.drop_table("ranks")
