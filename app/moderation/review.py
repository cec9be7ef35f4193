"""The review queue's actions on one post. Each closes the post's pending flags (accepted or
rejected), changes the post through its own module, and tells the author with the reason."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.forums.schemas import PostEditIn
from app.kit.errors import Conflict, Invalid
from app.kit.i18n import gettext as _
from app.models import Member
from app.moderation import audit, flag, notices, queries
from app.moderation.delete import delete_post
from app.moderation.edit import edit_post
from app.moderation.hide import hide_post, post_state
from app.moderation.restore import restore_post, unhide

POST_ACTIONS = ("keep", "hide", "delete", "edit", "restore", "approve", "reject")


async def act_on_post(
    session: AsyncSession,
    moderator: Member,
    post_id: int,
    action: str,
    reason: str,
    *,
    edit: PostEditIn | None = None,
) -> queries.PostTarget:
    target = await queries.post_target(session, post_id)
    post = target.post
    if action not in POST_ACTIONS:
        raise Invalid(_("Choose one of the offered values."), field="action")
    if action != "approve" and not reason.strip():
        raise Invalid(_("Give a reason; the author will be told."), field="reason")
    if action == "keep":
        await flag.resolve_flags(session, moderator, post, accepted=False, reason=reason)
        before = post_state(post)
        if post.hidden_by_id is None:
            # Hidden by flags that were wrong: show it again (and pay its points back).
            await unhide(session, moderator, target, reason)
        await audit.log(
            session,
            actor=moderator,
            action="post.kept",
            target=("post", post.id),
            reason=reason,
            before=before,
            after=post_state(post),
            concerns=post.author_id,
            data={"topic_id": target.topic.id},
        )
    elif action == "hide":
        await flag.resolve_flags(session, moderator, post, accepted=True, reason=reason)
        if not await hide_post(session, moderator, post, target.topic, reason):
            # Already hidden by flags: the moderator confirms it, taking it over.
            before = post_state(post)
            post.hidden_by_id = moderator.id
            post.hidden_reason = reason
            await session.flush()
            await audit.log(
                session,
                actor=moderator,
                action="post.hidden",
                target=("post", post.id),
                reason=reason,
                before=before,
                after=post_state(post),
                concerns=post.author_id,
                data={"topic_id": target.topic.id},
            )
    elif action in ("delete", "reject"):
        await flag.resolve_flags(session, moderator, post, accepted=True, reason=reason)
        await delete_post(
            session,
            moderator,
            target,
            reason,
            action="post.deleted" if action == "delete" else "post.rejected",
        )
    elif action == "edit":
        if edit is None:
            raise Invalid(_("This field is required."), field="body")
        if post.deleted_at is not None:
            raise Conflict(_("Restore this post before editing it."))
        await flag.resolve_flags(session, moderator, post, accepted=True, reason=reason)
        await edit_post(session, moderator, target, edit, reason)
    elif action == "restore":
        await flag.resolve_flags(session, moderator, post, accepted=False, reason=reason)
        if not await restore_post(session, moderator, target, reason):
            raise Conflict(_("This post is neither hidden nor deleted."))
    elif action == "approve":
        if not post.needs_approval:
            raise Conflict(_("This post is not waiting for approval."))
        await approve_post(session, moderator, target, reason)
    return target


async def approve_post(
    session: AsyncSession, moderator: Member, target: queries.PostTarget, reason: str
) -> None:
    post, topic = target.post, target.topic
    before = post_state(post)
    post.needs_approval = False
    if post.number == 1:
        topic.needs_approval = False
    await session.flush()
    title = topic.title
    await notices.tell(
        session,
        post.author_id,
        lambda: _("Your post in “%(title)s” was approved and is now visible.", title=title),
        subject=("post", post.id),
    )
    await audit.log(
        session,
        actor=moderator,
        action="post.approved",
        target=("post", post.id),
        reason=reason,
        before=before,
        after=post_state(post),
        concerns=post.author_id,
        data={"topic_id": topic.id},
    )
