"""Hide a post: it disappears for everyone but staff, and stops counting for points."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.kit import clock
from app.kit.i18n import gettext as _
from app.models import Member, Post, Topic
from app.moderation import audit, notices


def post_state(post: Post) -> dict[str, object]:
    """What the audit log keeps of a post before and after an action."""
    return {
        "hidden": post.hidden_at is not None,
        "deleted": post.deleted_at is not None,
        "needs_approval": post.needs_approval,
    }


def is_removed(post: Post) -> bool:
    return post.hidden_at is not None or post.deleted_at is not None


async def hide_post(
    session: AsyncSession,
    actor: Member | None,
    post: Post,
    topic: Topic,
    reason: str,
    *,
    describe: Callable[[], str] | None = None,
) -> bool:
    """Hide ``post`` (``actor`` None: the flags reached the threshold). Hiding an opening
    post hides its topic. Returns False if it was hidden already."""
    if post.hidden_at is not None:
        return False
    before = post_state(post)
    was_removed = is_removed(post)
    now = clock.now()
    post.hidden_at = now
    post.hidden_by_id = actor.id if actor is not None else None
    post.hidden_reason = reason
    if post.number == 1:
        topic.hidden_at = now
    await session.flush()
    actor_id = actor.id if actor is not None else None
    await activity.record(
        session,
        verbs.POST_HIDDEN,
        actor_id=actor_id,
        recipient_id=post.author_id,
        subject=("post", post.id),
        data={
            "topic_id": topic.id,
            "post_id": post.id,
            "reason": reason,
            "by_flags": actor is None,
        },
    )
    if not was_removed:
        await activity.record(
            session,
            verbs.POST_REMOVED,
            actor_id=actor_id,
            recipient_id=post.author_id,
            subject=("post", post.id),
            data={"topic_id": topic.id, "reason": reason, "by_staff": actor is not None},
        )
    title = topic.title
    if actor is None:
        await notices.tell(
            session,
            post.author_id,
            lambda: _(
                "Your post in “%(title)s” was hidden because members flagged it (%(reason)s). "
                "A moderator will review it.",
                title=title,
                reason=describe() if describe is not None else reason,
            ),
            subject=("post", post.id),
        )
    else:
        await notices.tell(
            session,
            post.author_id,
            lambda: _(
                "A moderator hid your post in “%(title)s”. Reason: %(reason)s",
                title=title,
                reason=reason,
            ),
            subject=("post", post.id),
        )
    await audit.log(
        session,
        actor=actor,
        action="post.auto_hidden" if actor is None else "post.hidden",
        target=("post", post.id),
        reason=reason,
        before=before,
        after=post_state(post),
        concerns=post.author_id,
        data={"topic_id": topic.id},
    )
    return True
