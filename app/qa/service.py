"""Votes and accepted answers. Like every write, these only flush and record the activity."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.forums import queries
from app.forums import service as forums
from app.kit import clock
from app.kit.sql import insert
from app.models import AnswerVote, Member, Post, Topic
from app.moderation.policy import check_can_participate
from app.qa import policy


async def vote(session: AsyncSession, viewer: Member, post_id: int, value: int) -> tuple[int, int]:
    """Vote +1 or -1 on a question or answer, change the vote, or take it back with 0.
    Returns (my vote, the post's score)."""
    check_can_participate(viewer)
    post, context = await queries.get_post(session, viewer, post_id)
    topic = context.topic
    policy.check_can_vote(viewer, post, topic)
    previous = int(
        await session.scalar(
            select(AnswerVote.value).where(
                AnswerVote.post_id == post.id, AnswerVote.member_id == viewer.id
            )
        )
        or 0
    )
    if previous == value:
        return value, post.score
    now = clock.now()
    if value == 0:
        await session.execute(
            delete(AnswerVote).where(
                AnswerVote.post_id == post.id, AnswerVote.member_id == viewer.id
            )
        )
    else:
        statement = insert(session, AnswerVote).values(
            post_id=post.id, member_id=viewer.id, value=value, created_at=now, updated_at=now
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[AnswerVote.post_id, AnswerVote.member_id],
                set_={"value": value, "updated_at": now},
            )
        )
    delta = value - previous
    await session.execute(update(Post).where(Post.id == post.id).values(score=Post.score + delta))
    if post.number == 1:
        await session.execute(
            update(Topic).where(Topic.id == topic.id).values(score=Topic.score + delta)
        )
    await activity.record(
        session,
        verbs.VOTE_CAST,
        actor_id=viewer.id,
        recipient_id=post.author_id,
        subject=("post", post.id),
        data={"value": value, "previous": previous, "topic_id": topic.id},
    )
    return value, post.score


async def accept(session: AsyncSession, viewer: Member, post_id: int) -> Topic:
    """Accept an answer (replacing any earlier choice). Returns the question's topic."""
    post, context = await forums.writable_post(session, viewer, post_id)
    policy.check_can_accept(viewer, post, context.topic)
    await forums.set_accepted(session, viewer, context.topic, post)
    return context.topic


async def unaccept(session: AsyncSession, viewer: Member, post_id: int) -> Topic:
    post, context = await forums.writable_post(session, viewer, post_id)
    policy.check_can_accept(viewer, post, context.topic)
    if context.topic.accepted_post_id == post.id:
        await forums.set_accepted(session, viewer, context.topic, None)
    return context.topic
