"""forums: the unanswered questions have a partial index in the home list's order

The home page's "unanswered" list walked every topic along the activity index to find the
few questions without a reply: 16 ms a page at 20,000 topics on SQLite, whatever the page
held. This index holds only those questions (a topic leaves it with its first reply), so a
page reads just its own rows. A category's list reads them from it too, or along the
category's own activity index (2,000 topics: 3.5 ms).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# As app.models.topic.UNANSWERED_SQL says it (a migration keeps its own copy).
UNANSWERED = "kind = 'question' AND reply_count = 0"


def upgrade() -> None:
    op.create_index(
        "ix_topics_unanswered",
        "topics",
        ["last_posted_at", "id"],
        sqlite_where=sa.text(UNANSWERED),
        postgresql_where=sa.text(UNANSWERED),
    )


def downgrade() -> None:
    op.drop_index("ix_topics_unanswered", table_name="topics")
