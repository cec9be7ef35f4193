"""The entry points routes call: topic and member actions, settings and the word list.
Each verb lives in its own module; this only checks the input and dispatches."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import Invalid, NotFound
from app.kit.i18n import gettext as _
from app.models import Member, Topic, WordFilter
from app.moderation import audit, close, limits, lock, move, pin, queries, silence, split, words
from app.moderation import suspend as suspend_module
from app.moderation import warn as warn_module
from app.moderation.schemas import MemberActionIn, TopicActionIn, WordIn


def require_reason(reason: str) -> str:
    if not reason.strip():
        raise Invalid(_("Give a reason; the member will be told."), field="reason")
    return reason


async def act_on_topic(
    session: AsyncSession, moderator: Member, topic_id: int, data: TopicActionIn
) -> tuple[Topic, Topic | None]:
    topic, _category = await queries.topic_target(session, topic_id)
    reason = data.reason
    new_topic: Topic | None = None
    if data.action in ("lock", "unlock"):
        await lock.set_locked(session, moderator, topic, data.action == "lock", reason)
    elif data.action in ("pin", "unpin"):
        await pin.set_pinned(session, moderator, topic, data.action == "pin", reason)
    elif data.action == "close":
        await close.close_topic(session, moderator, topic, require_reason(reason))
    elif data.action == "reopen":
        await close.reopen_topic(session, moderator, topic, reason)
    elif data.action == "move":
        await move.move_topic(session, moderator, topic, data.category_id, reason)
    elif data.action == "split":
        if not data.title:
            raise Invalid(_("This field is required."), field="title")
        new_topic = await split.split_topic(
            session, moderator, topic, data.post_ids, data.title, data.category_id, reason
        )
    return topic, new_topic


async def act_on_member(
    session: AsyncSession, moderator: Member, member_id: int, action: str, data: MemberActionIn
) -> Member:
    member = await queries.member_by_id(session, member_id)
    if action == "silence":
        await silence.silence(session, moderator, member, data.hours, require_reason(data.reason))
    elif action == "unsilence":
        await silence.unsilence(session, moderator, member, data.reason)
    elif action == "suspend":
        await suspend_module.suspend(
            session, moderator, member, data.hours, require_reason(data.reason)
        )
    elif action == "unsuspend":
        await suspend_module.unsuspend(session, moderator, member, data.reason)
    elif action == "warn":
        await warn_module.warn(session, moderator, member, require_reason(data.reason))
    else:
        raise NotFound()
    return member


async def save_settings(
    session: AsyncSession, admin: Member, new: limits.ModerationSettings
) -> limits.ModerationSettings:
    before, after = await limits.save_settings(session, admin, new)
    if after:
        await audit.log(
            session,
            actor=admin,
            action="settings.changed",
            target=None,
            before=before,
            after=after,
        )
    return new


async def add_word(session: AsyncSession, admin: Member, data: WordIn) -> WordFilter:
    word = await words.add_word(session, admin.id, data.pattern, data.action, data.replacement)
    await audit.log(
        session,
        actor=admin,
        action="word.added",
        target=("word", word.id),
        after={"pattern": word.pattern, "action": word.action, "replacement": word.replacement},
    )
    return word


async def remove_word(session: AsyncSession, admin: Member, word_id: int) -> None:
    word = await session.get(WordFilter, word_id)
    if word is None:
        raise NotFound()
    before = {"pattern": word.pattern, "action": word.action, "replacement": word.replacement}
    await session.execute(delete(WordFilter).where(WordFilter.id == word_id))
    await audit.log(
        session, actor=admin, action="word.removed", target=("word", word_id), before=before
    )
