"""counters: SQLite keeps the composite-key tables in their primary key (WITHOUT ROWID)

A like upserts a dozen counter rows: the members' daily counts, the touch between them, the
topic's day, the day's tally, the period and kind totals of the points, the token's budget,
and the like itself. In a rowid table each of them is found through the primary key's index
and then rewritten in the table beside it, two B-trees for one row, and the daily counts and
the topic's days kept a third, covering index for their readers. Stored in the primary key's
own B-tree (a clustered index), a row is found and rewritten in one, and a range of the key
reads the columns where it finds them, so the covering indexes go on SQLite (PostgreSQL's
tables are heaps: its covering indexes stay). On the full benchmark community a like then
writes 5-7% fewer WAL frames and the database is 7% smaller; the rate of likes did not move
beyond the noise (bench/ANALYSIS.md, session 40). The upgrade rebuilt those tables' 14.3
million rows in about 105 s.

Nothing changes on PostgreSQL.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 00:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLES = (
    "analytics_member_daily",
    "analytics_touches",
    "analytics_topic_daily",
    "analytics_daily",
    "post_likes",
    "point_period_totals",
    "point_kind_totals",
    "rate_limits",
)
# The covering indexes the clustered tables make redundant: (table, name, columns).
COVERING = (
    (
        "analytics_member_daily",
        "ix_analytics_member_daily_member_day_verb_counts",
        ["member_id", "day", "verb", "done", "received"],
    ),
    (
        "analytics_topic_daily",
        "ix_analytics_topic_daily_day_topic_likes_views",
        ["day", "topic_id", "likes", "views"],
    ),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    covering = {table: name for table, name, _columns in COVERING}
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ) as batch_op:
            if table in covering:
                batch_op.drop_index(covering[table])


def downgrade() -> None:
    if not _sqlite():
        return
    covering = {table: (name, columns) for table, name, columns in COVERING}
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": True}
        ) as batch_op:
            if table in covering:
                name, columns = covering[table]
                batch_op.create_index(name, columns)
