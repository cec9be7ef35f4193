"""The audit log of moderator and admin actions: who, what, on what, before/after, why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.kit.i18n import LazyString, lazy_gettext
from app.models import AuditLog, Member

# Every action this package writes, with the words the audit page and "my moderation" use.
ACTIONS: dict[str, LazyString] = {
    "post.auto_hidden": lazy_gettext("Post hidden by community flags"),
    "post.kept": lazy_gettext("Flags dismissed, post kept"),
    "post.hidden": lazy_gettext("Post hidden"),
    "post.deleted": lazy_gettext("Post deleted"),
    "post.edited": lazy_gettext("Post edited by a moderator"),
    "post.restored": lazy_gettext("Post restored"),
    "post.approved": lazy_gettext("Post approved"),
    "post.rejected": lazy_gettext("Post rejected"),
    "topic.locked": lazy_gettext("Topic locked"),
    "topic.unlocked": lazy_gettext("Topic unlocked"),
    "topic.pinned": lazy_gettext("Topic pinned"),
    "topic.unpinned": lazy_gettext("Topic unpinned"),
    "topic.moved": lazy_gettext("Topic moved"),
    "topic.closed": lazy_gettext("Topic closed"),
    "topic.reopened": lazy_gettext("Topic reopened"),
    "topic.split": lazy_gettext("Replies split into a new topic"),
    "member.silenced": lazy_gettext("Member silenced"),
    "member.unsilenced": lazy_gettext("Silence lifted"),
    "member.suspended": lazy_gettext("Member suspended"),
    "member.unsuspended": lazy_gettext("Suspension lifted"),
    "member.warned": lazy_gettext("Member warned"),
    "member.role_changed": lazy_gettext("Role changed"),
    "settings.changed": lazy_gettext("Moderation settings changed"),
    "word.added": lazy_gettext("Watched word added"),
    "word.removed": lazy_gettext("Watched word removed"),
}


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


async def log(
    session: AsyncSession,
    *,
    actor: Member | None,
    action: str,
    target: tuple[str, int] | None,
    reason: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    concerns: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry. ``actor`` None means the community itself (flags reached the
    threshold); ``concerns`` is the member the outcome is about, who may read it."""
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        reason=reason,
        before=before or {},
        after=after or {},
        subject_member_id=concerns,
        data=data or {},
        created_at=clock.now(),
    )
    session.add(entry)
    await session.flush()
    return entry
