"""points: lifetime points per member and kind, kept on write

The profile's "points by kind" summed the member's whole ledger on every view: 77,000 rows
for the busiest member of the 100,000-member benchmark community (most of the profile's
20 ms on PostgreSQL). point_kind_totals holds the sums, kept with each ledger row; this
migration fills it from the ledger.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "point_kind_totals",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_point_kind_totals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "kind", name=op.f("pk_point_kind_totals")),
    )
    op.execute(
        "INSERT INTO point_kind_totals (member_id, kind, points) "
        "SELECT member_id, kind, SUM(lifetime_delta) FROM point_ledger "
        "WHERE lifetime_delta != 0 GROUP BY member_id, kind"
    )


def downgrade() -> None:
    op.drop_table("point_kind_totals")
