"""analytics: the members by advocate type and RFM group, counted from an index

The operator's scores page counts the population by advocate type and by RFM group. Each count
read every score row (about 70 ms at 100,000 members, SQLite, the rows being wide); this index
holds the two columns alone. The score batch writes them only when they change, so a like does
not write it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_analytics_member_scores_distribution",
        "analytics_member_scores",
        ["advocate_type", "rfm_group"],
    )


def downgrade() -> None:
    op.drop_index("ix_analytics_member_scores_distribution", table_name="analytics_member_scores")
