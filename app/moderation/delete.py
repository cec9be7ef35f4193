"""Delete a post as a moderator (the forums' soft delete, which keeps counters right), and
tell the author why. Deleting an opening post deletes its topic."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.forums import service as forums
from app.kit.i18n import gettext as _
from app.models import Member
from app.moderation import audit, notices
from app.moderation.hide import post_state
from app.moderation.queries import PostTarget


async def delete_post(
    session: AsyncSession, moderator: Member, target: PostTarget, reason: str, *, action: str
) -> None:
    post, topic = target.post, target.topic
    before = post_state(post)
    if post.deleted_at is None:
        # The forums record post.removed (points reverse; a second removal of an already
        # hidden post finds nothing left to reverse).
        await forums.remove_post(session, moderator, post.id, reason)
    post.needs_approval = False
    if post.number == 1:
        topic.needs_approval = False
    await session.flush()
    title = topic.title
    await notices.tell(
        session,
        post.author_id,
        lambda: _(
            "A moderator deleted your post in “%(title)s”. Reason: %(reason)s",
            title=title,
            reason=reason,
        ),
        subject=("post", post.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action=action,
        target=("post", post.id),
        reason=reason,
        before=before,
        after=post_state(post),
        concerns=post.author_id,
        data={"topic_id": topic.id},
    )
