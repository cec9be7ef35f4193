"""analytics: members whose scores wait for the next batch (analytics_member_scores.dirty)

An activity now only adds to the member's engagement and marks the row dirty; reach, RFM,
deciles, advocate type and ambassador detection are recomputed for dirty members in batches
right after the commit and on the scheduler's tick (app.analytics.service.refresh_dirty).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_member_scores") as batch:
        batch.add_column(
            sa.Column("dirty", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(op.f("ix_analytics_member_scores_dirty"), "analytics_member_scores", ["dirty"])


def downgrade() -> None:
    op.drop_index(op.f("ix_analytics_member_scores_dirty"), table_name="analytics_member_scores")
    with op.batch_alter_table("analytics_member_scores") as batch:
        batch.drop_column("dirty")
