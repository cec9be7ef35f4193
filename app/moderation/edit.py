"""Edit a post as a moderator (the forums keep the previous text as a revision); an edited
post that was hidden becomes visible again, and the author is told why it changed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.forums import service as forums
from app.forums.schemas import PostEditIn
from app.kit.i18n import gettext as _
from app.models import Member
from app.moderation import audit, notices
from app.moderation.queries import PostTarget
from app.moderation.restore import unhide


async def edit_post(
    session: AsyncSession,
    moderator: Member,
    target: PostTarget,
    edit: PostEditIn,
    reason: str,
) -> None:
    post, topic = target.post, target.topic
    before = {"source": post.source, "title": topic.title if post.number == 1 else None}
    if post.deleted_at is None:
        await forums.edit_post(session, moderator, post.id, edit)
    await unhide(session, moderator, target, reason)
    title = topic.title
    await notices.tell(
        session,
        post.author_id,
        lambda: _(
            "A moderator edited your post in “%(title)s”. Reason: %(reason)s",
            title=title,
            reason=reason,
        ),
        subject=("post", post.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="post.edited",
        target=("post", post.id),
        reason=reason,
        before=before,
        after={"source": post.source, "title": topic.title if post.number == 1 else None},
        concerns=post.author_id,
        data={"topic_id": topic.id},
    )
