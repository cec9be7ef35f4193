"""Who may see and do what in the forums. The one place these rules live.

Visibility is expressed twice from the same rules: as SQL conditions that every list, page,
search, API and count query joins on (so hidden things never leave the database), and as
Python checks for objects already loaded (notifications and live events call
:func:`can_see_topic`). What a member may not see answers 404, never 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, true

from app.kit.errors import Forbidden, NotFound, Unauthorized
from app.kit.i18n import gettext as _
from app.models import Category, Member, Post, Topic
from app.moderation import policy as moderation

EVERYONE = "everyone"
MEMBERS = "members"
MIN_RANK = "min_rank"
STAFF = "staff"
VISIBILITY_LEVELS = (EVERYONE, MEMBERS, MIN_RANK, STAFF)
POSTING_LEVELS = (MEMBERS, MIN_RANK, STAFF)
KINDS = ("discussion", "question")


def lifetime_points(viewer: moderation.Viewer | None) -> int:
    """Lifetime points decide rank-gated access."""
    if viewer is None:
        return 0
    return int(viewer.lifetime_points or 0)


def _passes(level: str, threshold: int | None, viewer: moderation.Viewer | None) -> bool:
    if level == EVERYONE:
        return True
    if viewer is None:
        return False
    if viewer.is_staff:
        return True
    if level == MEMBERS:
        return True
    if level == MIN_RANK:
        return lifetime_points(viewer) >= (threshold or 0)
    return False


class Gated(Protocol):
    """What the access rules read of a category: a loaded one, or its columns."""

    @property
    def visibility(self) -> str: ...

    @property
    def min_rank_threshold(self) -> int | None: ...


class TopicState(moderation.Moderated, Protocol):
    """What the visibility rules read of a topic: a loaded one, or its columns."""

    @property
    def deleted_at(self) -> datetime | None: ...


# A hot path may read these columns instead of loading objects (a like, a notification's
# topic): the checks below take either.
STATE_COLUMNS = ("author_id", "hidden_at", "needs_approval", "deleted_at")


class StateColumns(NamedTuple):
    """A post's or topic's :data:`STATE_COLUMNS`."""

    author_id: int
    hidden_at: datetime | None
    needs_approval: bool
    deleted_at: datetime | None


class GateColumns(NamedTuple):
    """A category's columns that the access rules read."""

    visibility: str
    min_rank_threshold: int | None


def state_columns(model: type[Post] | type[Topic]) -> tuple[Any, ...]:
    """A post's or topic's :data:`STATE_COLUMNS`, to select."""
    return tuple(getattr(model, name) for name in STATE_COLUMNS)


def topic_gate_columns() -> tuple[Any, ...]:
    """A topic's state and its category's gate, to select (with ``categories`` joined);
    :func:`topic_gate_of` reads them back."""
    return (*state_columns(Topic), Category.visibility, Category.min_rank_threshold)


def topic_gate_of(values: Sequence[Any]) -> tuple[StateColumns, GateColumns]:
    """The topic's state and its category's gate from the values of
    :func:`topic_gate_columns`."""
    size = len(STATE_COLUMNS)
    return StateColumns(*values[:size]), GateColumns(*values[size:])


# --- SQL conditions ---------------------------------------------------------------------------


def visible_categories(viewer: Member | None) -> ColumnElement[bool]:
    """Categories the viewer may see, as a WHERE condition on ``categories``."""
    if viewer is None:
        return Category.visibility == EVERYONE
    if viewer.is_staff:
        return true()
    return or_(
        Category.visibility.in_((EVERYONE, MEMBERS)),
        and_(
            Category.visibility == MIN_RANK,
            func.coalesce(Category.min_rank_threshold, 0) <= lifetime_points(viewer),
        ),
    )


def visible_topics(viewer: Member | None) -> ColumnElement[bool]:
    """Topics the viewer may see in lists, search and counts (needs ``categories`` joined)."""
    return and_(
        Topic.deleted_at.is_(None),
        visible_categories(viewer),
        moderation.visible_topics(viewer),
    )


# --- checks on loaded objects -----------------------------------------------------------------


def can_see_category(viewer: moderation.Viewer | None, category: Gated) -> bool:
    return _passes(category.visibility, category.min_rank_threshold, viewer)


def can_see_topic(
    viewer: moderation.Viewer | None, topic_category: Gated, topic: TopicState | None = None
) -> bool:
    """May ``viewer`` see a topic in ``topic_category``? Notifications and live events ask this
    before telling anyone about a topic or post. A deleted topic stays visible to staff only."""
    if not can_see_category(viewer, topic_category):
        return False
    if topic is not None and topic.deleted_at is not None:
        return viewer is not None and viewer.can_moderate
    return topic is None or moderation.can_see_topic_state(viewer, topic)


def can_post_in(viewer: Member | None, category: Category) -> bool:
    return (
        viewer is not None
        and can_see_category(viewer, category)
        and _passes(category.posting, category.min_rank_threshold, viewer)
    )


def check_can_post(viewer: Member | None, category: Category) -> Member:
    if viewer is None:
        raise Unauthorized()
    if not can_see_category(viewer, category):
        raise NotFound()
    if not can_post_in(viewer, category):
        if category.posting == MIN_RANK:
            raise Forbidden(
                _("Only members with a higher rank may post in this category."), field="category_id"
            )
        raise Forbidden(_("Only staff may post in this category."), field="category_id")
    return viewer


def check_can_reply(viewer: Member | None, category: Category, topic: Topic) -> Member:
    member = check_can_post(viewer, category)
    if topic.deleted_at is not None:
        raise Forbidden(_("This topic was deleted; it takes no more replies."))
    if topic.locked and not member.can_moderate:
        raise Forbidden(_("This topic is locked; it takes no more replies."))
    return member


def can_reply(viewer: Member | None, category: Category, topic: Topic) -> bool:
    return (
        can_post_in(viewer, category)
        and topic.deleted_at is None
        and (not topic.locked or can_moderate(viewer))
    )


def can_moderate(viewer: Member | None) -> bool:
    return viewer is not None and viewer.can_moderate


def can_edit_post(viewer: Member | None, post: Post) -> bool:
    if viewer is None or post.deleted_at is not None:
        return False
    return post.author_id == viewer.id or viewer.can_moderate


def can_delete_post(viewer: Member | None, post: Post) -> bool:
    return can_edit_post(viewer, post)


def can_see_revisions(viewer: Member | None, post: Post) -> bool:
    return viewer is not None and (post.author_id == viewer.id or viewer.is_staff)
