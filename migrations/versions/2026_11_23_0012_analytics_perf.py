"""analytics at scale: active-member and per-topic daily rollups (filled from the existing ones)

analytics_active and analytics_active_returns summarise who was active when (DAU / WAU / MAU and
distinct active members of a range without reading every member-day); analytics_topic_daily keeps
likes and visitors per topic and day ("top content" without scanning post_likes). Upgrading fills
them from analytics_member_daily, activities, post_likes and topic_views, with the same
aggregation the app keeps (app.analytics.active, app.analytics.rollups).

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_active",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("week_ends", sa.Integer(), nullable=False),
        sa.Column("month_ends", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_analytics_active")),
    )
    op.create_table(
        "analytics_active_returns",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("previous_day", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "previous_day", name=op.f("pk_analytics_active_returns")),
    )
    op.create_table(
        "analytics_topic_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "topic_id", name=op.f("pk_analytics_topic_daily")),
    )
    from app.analytics.active import rebuild_statements
    from app.analytics.rollups import TOPIC_REBUILD

    bind = op.get_bind()
    for statement in [*rebuild_statements(bind.dialect.name), TOPIC_REBUILD]:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table("analytics_topic_daily")
    op.drop_table("analytics_active_returns")
    op.drop_table("analytics_active")
