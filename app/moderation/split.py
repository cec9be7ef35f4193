"""Split replies out of a topic into a new topic.

The moved posts keep their authors, dates, likes and points; they are numbered 1..n in the
new topic (the first becomes its opening post). The old topic keeps its post_count, because
forums number new replies from it and numbers are never reused.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.forums import counters
from app.forums import service as forums
from app.kit.errors import Invalid
from app.kit.i18n import gettext as _
from app.models import Category, Member, Post, Topic
from app.moderation import topics

MAX_SPLIT = 500


async def split_topic(
    session: AsyncSession,
    moderator: Member,
    topic: Topic,
    post_ids: list[int],
    title: str,
    category_id: int | None,
    reason: str,
) -> Topic:
    ids = sorted(set(post_ids))
    if not ids:
        raise Invalid(_("Choose at least one reply to move."), field="post_ids")
    if len(ids) > MAX_SPLIT:
        raise Invalid(_("Move at most %(max)s replies at once.", max=MAX_SPLIT), field="post_ids")
    posts = list(
        (
            await session.execute(
                select(Post)
                .where(Post.id.in_(ids), Post.topic_id == topic.id)
                .order_by(Post.number)
            )
        ).scalars()
    )
    if len(posts) != len(ids):
        raise Invalid(_("Choose replies from this topic."), field="post_ids")
    if any(post.number == 1 for post in posts):
        raise Invalid(_("The opening post cannot be moved out of its topic."), field="post_ids")
    if any(post.deleted_at is not None for post in posts):
        raise Invalid(_("Deleted replies cannot be moved; restore them first."), field="post_ids")
    category = await session.get(Category, category_id or topic.category_id)
    if category is None:
        raise Invalid(_("Choose a category from the list."), field="category_id")
    if category.kind != topic.kind:
        raise Invalid(
            _("Questions can only move to Q&A categories, discussions to discussion ones."),
            field="category_id",
        )
    before = topics.topic_state(topic)
    first, last = posts[0], posts[-1]
    new_topic = Topic(
        category_id=category.id,
        author_id=first.author_id,
        title=title,
        kind=topic.kind,
        created_at=first.created_at,
        last_posted_at=last.created_at,
        last_poster_id=last.author_id,
        post_count=len(posts),
        reply_count=len(posts) - 1,
        hidden_at=first.hidden_at,
        needs_approval=first.needs_approval,
    )
    session.add(new_topic)
    await session.flush()
    if topic.accepted_post_id in ids:
        await forums.set_accepted(session, moderator, topic, None)
    for number, post in enumerate(posts, start=1):
        post.topic_id = new_topic.id
        post.number = number
        await session.flush()
    from app.analytics.rollups import move_likes

    await move_likes(session, ids, topic.id, new_topic.id)
    await forums.index_post(session, first.id, title, first.plain)
    await session.execute(
        update(Topic).where(Topic.id == topic.id).values(reply_count=Topic.reply_count - len(posts))
    )
    latest = (
        await session.execute(
            select(Post.author_id, Post.created_at)
            .where(Post.topic_id == topic.id, Post.deleted_at.is_(None))
            .order_by(Post.number.desc())
            .limit(1)
        )
    ).one()
    await session.execute(
        update(Topic)
        .where(Topic.id == topic.id)
        .values(last_poster_id=latest.author_id, last_posted_at=latest.created_at)
    )
    moved = len(posts)
    counters.count(session, topic.category_id, posts=-moved)
    counters.count(session, category.id, topics=1, posts=moved)
    await session.refresh(topic)
    old_title = topic.title
    await topics.record(
        session,
        moderator,
        topic,
        "topic.split",
        reason,
        before,
        tell=lambda: _(
            "A moderator moved some replies from your topic “%(old)s” to a new topic “%(new)s”.",
            old=old_title,
            new=title,
        ),
        data={"new_topic_id": new_topic.id, "post_ids": ids},
    )
    return new_topic
