"""Who may vote and accept in Q&A topics (visibility itself is app.forums.policy's)."""

from __future__ import annotations

from app.kit.errors import Conflict, Forbidden
from app.kit.i18n import lazy_gettext
from app.models import Member, Post, Topic


def check_can_vote(viewer: Member, post: Post, topic: Topic) -> None:
    if not topic.is_question:
        raise Conflict(lazy_gettext("Votes are for questions and answers only."))
    if post.deleted_at is not None or topic.deleted_at is not None:
        raise Conflict(lazy_gettext("This post was removed."))
    if post.author_id == viewer.id:
        raise Forbidden(lazy_gettext("You cannot vote on your own post."))


def check_can_accept(viewer: Member, post: Post, topic: Topic) -> None:
    if not topic.is_question:
        raise Conflict(lazy_gettext("Only answers to a question can be accepted."))
    if post.number == 1:
        raise Conflict(lazy_gettext("The question itself cannot be accepted; accept an answer."))
    if post.deleted_at is not None or topic.deleted_at is not None:
        raise Conflict(lazy_gettext("This post was removed."))
    if topic.author_id != viewer.id and not viewer.can_moderate:
        raise Forbidden(
            lazy_gettext("Only the person who asked, or a moderator, can accept an answer.")
        )


def can_accept(viewer: Member | None, topic: Topic) -> bool:
    return viewer is not None and (topic.author_id == viewer.id or viewer.can_moderate)
