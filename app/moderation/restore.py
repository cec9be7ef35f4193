"""Restore a hidden or deleted post: visible again, and its points paid again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.forums import service as forums
from app.kit.i18n import gettext as _
from app.models import Member
from app.moderation import audit, notices
from app.moderation.hide import post_state
from app.moderation.queries import PostTarget


async def unhide(session: AsyncSession, moderator: Member, target: PostTarget, reason: str) -> bool:
    """Show a hidden post again; records post.restored unless it stays deleted."""
    post, topic = target.post, target.topic
    if post.hidden_at is None:
        return False
    post.hidden_at = None
    post.hidden_by_id = None
    post.hidden_reason = ""
    if post.number == 1:
        topic.hidden_at = None
    await session.flush()
    if post.deleted_at is None:
        await activity.record(
            session,
            verbs.POST_RESTORED,
            actor_id=moderator.id,
            recipient_id=post.author_id,
            subject=("post", post.id),
            data={"topic_id": topic.id, "reason": reason, "by_staff": True},
        )
    return True


async def restore_post(
    session: AsyncSession, moderator: Member, target: PostTarget, reason: str, *, tell: bool = True
) -> bool:
    """Undo a hide and a delete. Returns False if there was nothing to restore."""
    post, topic = target.post, target.topic
    before = post_state(post)
    if post.hidden_at is None and post.deleted_at is None:
        return False
    if post.deleted_at is not None:
        post.hidden_at = None  # the forums' restore records the one post.restored
        post.hidden_by_id = None
        post.hidden_reason = ""
        if post.number == 1:
            topic.hidden_at = None
        await session.flush()
        await forums.restore_post(session, moderator, post.id)
    else:
        await unhide(session, moderator, target, reason)
    title = topic.title
    if tell:
        await notices.tell(
            session,
            post.author_id,
            lambda: _(
                "A moderator restored your post in “%(title)s”. %(reason)s",
                title=title,
                reason=reason,
            ),
            subject=("post", post.id),
        )
    await audit.log(
        session,
        actor=moderator,
        action="post.restored",
        target=("post", post.id),
        reason=reason,
        before=before,
        after=post_state(post),
        concerns=post.author_id,
        data={"topic_id": topic.id},
    )
    return True
