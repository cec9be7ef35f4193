"""forums: categories, topics, posts, revisions, likes, answer votes, read state, views, tags,
and the search index (SQLite FTS5 trigram table; PostgreSQL pg_trgm GIN indexes)

Revision ID: 0003
Revises: 0006
Create Date: 2026-11-23 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = "0003"
down_revision = "0006"
branch_labels = None
depends_on = None

SEARCH_TABLE_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(title, body, tokenize='trigram')"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "categories",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("name_ja", sa.String(length=80), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_ja", sa.Text(), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("posting", sa.String(length=12), nullable=False),
        sa.Column("min_rank_threshold", sa.Integer(), nullable=True),
        sa.Column("topic_count", sa.Integer(), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index("ix_categories_position_id", ["position", "id"], unique=False)

    op.create_table(
        "tags",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("topic_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "topics",
        sa.Column(
            "category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_posted_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_poster_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("view_count", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column(
            "accepted_post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_topics_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_topics_category_id_categories")
        ),
        sa.ForeignKeyConstraint(
            ["last_poster_id"],
            ["members.id"],
            name=op.f("fk_topics_last_poster_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index("ix_topics_activity", ["last_posted_at", "id"], unique=False)
        batch_op.create_index(
            "ix_topics_author_id_created_at", ["author_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_topics_category_activity",
            ["category_id", "pinned", "last_posted_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_topics_category_created", ["category_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_topics_created", ["created_at", "id"], unique=False)

    op.create_table(
        "posts",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("cooked", sa.Text(), nullable=False),
        sa.Column("plain", sa.Text(), nullable=False),
        sa.Column(
            "reply_to_post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revision_count", sa.Integer(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "deleted_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("delete_reason", sa.String(length=200), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_posts_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"],
            ["members.id"],
            name=op.f("fk_posts_deleted_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_post_id"],
            ["posts.id"],
            name=op.f("fk_posts_reply_to_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_posts_topic_id_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("topic_id", "number", name=op.f("uq_posts_topic_id_number")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_author_id_created_at", ["author_id", "created_at"], unique=False
        )

    op.create_table(
        "topic_reads",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_read_number", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_topic_reads_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_reads_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "topic_id", name=op.f("pk_topic_reads")),
    )
    with op.batch_alter_table("topic_reads", schema=None) as batch_op:
        batch_op.create_index("ix_topic_reads_topic_id", ["topic_id"], unique=False)

    op.create_table(
        "topic_tags",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_topic_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_tags_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "tag_id", name=op.f("pk_topic_tags")),
    )
    with op.batch_alter_table("topic_tags", schema=None) as batch_op:
        batch_op.create_index("ix_topic_tags_tag_id_topic_id", ["tag_id", "topic_id"], unique=False)

    op.create_table(
        "topic_views",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor_key", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_topic_views_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_views_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "day", "visitor_key", name=op.f("pk_topic_views")),
    )
    with op.batch_alter_table("topic_views", schema=None) as batch_op:
        batch_op.create_index("ix_topic_views_day_topic_id", ["day", "topic_id"], unique=False)

    op.create_table(
        "answer_votes",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_answer_votes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_answer_votes_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "member_id", name=op.f("pk_answer_votes")),
    )
    with op.batch_alter_table("answer_votes", schema=None) as batch_op:
        batch_op.create_index("ix_answer_votes_member_id", ["member_id"], unique=False)

    op.create_table(
        "post_likes",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_post_likes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_likes_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "member_id", name=op.f("pk_post_likes")),
    )
    with op.batch_alter_table("post_likes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_post_likes_member_id_created_at", ["member_id", "created_at"], unique=False
        )

    op.create_table(
        "post_revisions",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["editor_id"],
            ["members.id"],
            name=op.f("fk_post_revisions_editor_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "number", name=op.f("uq_post_revisions_post_id_number")),
    )

    if dialect == "postgresql":
        op.create_index(
            "ix_topics_title_trgm",
            "topics",
            ["title"],
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        )
        op.create_index(
            "ix_posts_plain_trgm",
            "posts",
            ["plain"],
            postgresql_using="gin",
            postgresql_ops={"plain": "gin_trgm_ops"},
        )
    else:
        op.execute(SEARCH_TABLE_SQL)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_posts_plain_trgm", table_name="posts")
        op.drop_index("ix_topics_title_trgm", table_name="topics")
    else:
        op.execute("DROP TABLE IF EXISTS search_index")
    op.drop_table("post_revisions")
    with op.batch_alter_table("post_likes", schema=None) as batch_op:
        batch_op.drop_index("ix_post_likes_member_id_created_at")

    op.drop_table("post_likes")
    with op.batch_alter_table("answer_votes", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_votes_member_id")

    op.drop_table("answer_votes")
    with op.batch_alter_table("topic_views", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_views_day_topic_id")

    op.drop_table("topic_views")
    with op.batch_alter_table("topic_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_tags_tag_id_topic_id")

    op.drop_table("topic_tags")
    with op.batch_alter_table("topic_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_reads_topic_id")

    op.drop_table("topic_reads")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_author_id_created_at")

    op.drop_table("posts")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index("ix_topics_created")
        batch_op.drop_index("ix_topics_category_created")
        batch_op.drop_index("ix_topics_category_activity")
        batch_op.drop_index("ix_topics_author_id_created_at")
        batch_op.drop_index("ix_topics_activity")

    op.drop_table("topics")
    op.drop_table("tags")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index("ix_categories_position_id")

    op.drop_table("categories")
