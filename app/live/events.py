"""Live events raised by activities: a new post reaches everyone reading its topic.

Subscriptions to a topic channel are checked against visibility when made; the event carries
only ids, and the page fetches the post rendered for its reader (with the reader's rights).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import subscribe
from app.live.broker import publish_after_commit, topic_channel
from app.models import Activity


async def on_activity(session: AsyncSession, activity: Activity) -> None:
    if activity.verb not in (verbs.POST_CREATED, verbs.ANSWER_CREATED):
        return
    topic_id = activity.data.get("topic_id")
    if not isinstance(topic_id, int) or activity.subject_id is None:
        return
    publish_after_commit(
        session,
        topic_channel(topic_id),
        {
            "type": "post.created",
            "topic_id": topic_id,
            "post_id": activity.subject_id,
            "author_id": activity.actor_id,
        },
    )


def install() -> None:
    subscribe(on_activity)
