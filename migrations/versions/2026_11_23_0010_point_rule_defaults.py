"""point rule defaults: campaigns, events, reviews and surveys pay (app/points/policy.py)

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

# verb, actor points, recipient points, daily cap: the defaults added to
# app.points.policy.DEFAULT_RULES after migration 0004 seeded the first ones.
NEW_RULES: tuple[tuple[str, int, int, int | None], ...] = (
    ("campaign.entered", 3, 0, None),
    ("campaign.selected", 10, 0, None),
    ("campaign.attended", 10, 0, None),
    ("review.created", 3, 0, 9),
    ("survey.answered", 2, 0, None),
)

point_rules = sa.table(
    "point_rules",
    sa.column("verb", sa.String),
    sa.column("actor_points", sa.Integer),
    sa.column("recipient_points", sa.Integer),
    sa.column("daily_cap", sa.Integer),
    sa.column("enabled", sa.Boolean),
    sa.column("position", sa.Integer),
    sa.column("updated_at", app.models.base.UTCDateTime(timezone=True)),
    sa.column("updated_by_id", sa.BigInteger),
)


def upgrade() -> None:
    # Idempotent: a verb an admin already gave a rule keeps the admin's rule.
    now = datetime.now(UTC)
    for verb, actor_points, recipient_points, daily_cap in NEW_RULES:
        next_position = sa.select(
            sa.func.coalesce(sa.func.max(point_rules.c.position), -1) + 1
        ).scalar_subquery()
        values = sa.select(
            sa.literal(verb, sa.String),
            sa.literal(actor_points, sa.Integer),
            sa.literal(recipient_points, sa.Integer),
            sa.literal(daily_cap, sa.Integer),
            sa.true(),
            next_position,
            sa.literal(now, app.models.base.UTCDateTime(timezone=True)),
        ).where(~sa.exists().where(point_rules.c.verb == verb))
        op.execute(
            point_rules.insert().from_select(
                [
                    "verb",
                    "actor_points",
                    "recipient_points",
                    "daily_cap",
                    "enabled",
                    "position",
                    "updated_at",
                ],
                values,
            )
        )


def downgrade() -> None:
    # Rules an admin has since changed are theirs and stay.
    op.execute(
        point_rules.delete().where(
            point_rules.c.verb.in_([rule[0] for rule in NEW_RULES]),
            point_rules.c.updated_by_id.is_(None),
        )
    )
