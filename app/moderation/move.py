"""Move a topic to another category (the forums keep both categories' counters right)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.forums import service as forums
from app.forums.schemas import TopicModerationIn
from app.kit.errors import Conflict, Invalid
from app.kit.i18n import get_locale
from app.kit.i18n import gettext as _
from app.models import Category, Member, Topic
from app.moderation import topics


async def move_topic(
    session: AsyncSession, moderator: Member, topic: Topic, category_id: int | None, reason: str
) -> None:
    if category_id is None:
        raise Invalid(_("Choose a category from the list."), field="category_id")
    if category_id == topic.category_id:
        raise Conflict(_("The topic is already in this category."))
    target = await session.get(Category, category_id)
    if target is None:
        raise Invalid(_("Choose a category from the list."), field="category_id")
    before = topics.topic_state(topic)
    await forums.moderate_topic(
        session, moderator, topic.id, TopicModerationIn(category_id=category_id)
    )
    await session.refresh(topic)
    title, name = topic.title, target.name_en
    name_ja = target.name_ja or target.name_en
    await topics.record(
        session,
        moderator,
        topic,
        "topic.moved",
        reason,
        before,
        tell=lambda: _(
            "A moderator moved your topic “%(title)s” to %(category)s.",
            title=title,
            category=name_ja if get_locale() == "ja" else name,
        ),
    )
