"""analytics: the dirty-score index holds the members awaiting a batch, and only them

Every activity marks the members it concerns dirty and the batch after the commit clears the
mark, so the index of the mark was written twice per member for each like. It indexed every
member, so each write landed on a leaf of its own: about 4 of the 56 pages a like wrote to the
WAL (10% benchmark data, SQLite). A partial index of the dirty members alone is a page or two,
which every mark and every clearing share.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The clauses as app.models.analytics_member_score.DIRTY writes them on this date.
DIRTY = {"sqlite": sa.text("dirty = 1"), "postgresql": sa.text("dirty")}


def upgrade() -> None:
    op.drop_index("ix_analytics_member_scores_dirty", table_name="analytics_member_scores")
    op.create_index(
        "ix_analytics_member_scores_dirty",
        "analytics_member_scores",
        ["member_id"],
        sqlite_where=DIRTY["sqlite"],
        postgresql_where=DIRTY["postgresql"],
    )


def downgrade() -> None:
    op.drop_index("ix_analytics_member_scores_dirty", table_name="analytics_member_scores")
    op.create_index("ix_analytics_member_scores_dirty", "analytics_member_scores", ["dirty"])
