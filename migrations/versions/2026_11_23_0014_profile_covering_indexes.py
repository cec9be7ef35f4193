"""points/activity: covering indexes for the profile page

The profile's breakdown by kind (SUM of lifetime points per kind) and its year calendar
(activities per day) read every ledger row and activity of the member. Extending the two
indexes they already use with the columns they read makes both index-only scans.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 15:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_point_ledger_member_kind_day_points",
        "point_ledger",
        ["member_id", "kind", "day", "lifetime_delta"],
    )
    op.drop_index("ix_point_ledger_member_id_kind_day", table_name="point_ledger")
    op.create_index(
        "ix_activities_actor_occurred_verb_day",
        "activities",
        ["actor_id", "occurred_at", "verb", "day"],
    )
    op.drop_index("ix_activities_actor_id_occurred_at", table_name="activities")


def downgrade() -> None:
    op.create_index("ix_activities_actor_id_occurred_at", "activities", ["actor_id", "occurred_at"])
    op.drop_index("ix_activities_actor_occurred_verb_day", table_name="activities")
    op.create_index(
        "ix_point_ledger_member_id_kind_day", "point_ledger", ["member_id", "kind", "day"]
    )
    op.drop_index("ix_point_ledger_member_kind_day_points", table_name="point_ledger")
