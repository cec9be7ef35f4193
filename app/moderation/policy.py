"""Who may do what in moderation, and what hidden content others may see. The one place.

Forums call :func:`check_can_participate` before a post, like or vote, :func:`screen_post`
before storing a new topic or reply, and join :func:`visible_posts` / :func:`visible_topics`
into every list so hidden or unapproved content never leaves the database for non-staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.kit.errors import Forbidden
from app.kit.i18n import format_when
from app.kit.i18n import gettext as _
from app.kit.sql import read_prebuilt
from app.models import Member, Post, Role, Topic
from app.moderation import limits, words

check_post_rate = limits.check_post_rate
apply_word_filters = words.apply_word_filters


def is_silenced(member: Member) -> bool:
    return member.silenced_until is not None and member.silenced_until > clock.now()


def is_suspended(member: Member) -> bool:
    return member.suspended_until is not None and member.suspended_until > clock.now()


def check_can_participate(member: Member) -> Member:
    """Silenced members read but may not post, flag, like or vote."""
    if is_silenced(member) and member.silenced_until is not None:
        message = _(
            "You are silenced until %(when)s and cannot post, flag or react until then.",
            when=format_when(member.silenced_until),
        )
        if member.silence_reason:
            message += " " + _("Reason: %(reason)s", reason=member.silence_reason)
        raise Forbidden(message)
    return member


def suspended_message(member: Member) -> str:
    when = format_when(member.suspended_until) if member.suspended_until else ""
    message = _("Your account is suspended until %(when)s.", when=when)
    if member.suspend_reason:
        message += " " + _("Reason: %(reason)s", reason=member.suspend_reason)
    return message


# --- hidden content -------------------------------------------------------------------------


class Viewer(Protocol):
    """Whom the visibility rules ask about: a loaded member, or the columns of one that a
    hot path reads instead (a notification's recipient, app.notifications.service)."""

    @property
    def id(self) -> int: ...

    @property
    def is_staff(self) -> bool: ...

    @property
    def can_moderate(self) -> bool: ...

    @property
    def lifetime_points(self) -> int: ...


class Moderated(Protocol):
    """What the visibility rules read of a post or topic: a loaded object, or the columns a
    hot write path reads instead (app.forums.service's likes)."""

    @property
    def author_id(self) -> int: ...

    @property
    def hidden_at(self) -> datetime | None: ...

    @property
    def needs_approval(self) -> bool: ...


def sees_hidden(viewer: Viewer | None) -> bool:
    return viewer is not None and viewer.can_moderate


def visible_posts(viewer: Member | None) -> ColumnElement[bool]:
    """Posts the viewer may see: hidden ones only for moderators; one awaiting approval also
    for its author (who sees it is waiting)."""
    if sees_hidden(viewer):
        return true()
    approved: ColumnElement[bool] = Post.needs_approval.is_(False)
    if viewer is not None:
        approved = or_(approved, Post.author_id == viewer.id)
    return and_(Post.hidden_at.is_(None), approved)


def visible_topics(viewer: Member | None) -> ColumnElement[bool]:
    if sees_hidden(viewer):
        return true()
    approved: ColumnElement[bool] = Topic.needs_approval.is_(False)
    if viewer is not None:
        approved = or_(approved, Topic.author_id == viewer.id)
    return and_(Topic.hidden_at.is_(None), approved)


def can_see_post(viewer: Viewer | None, post: Moderated) -> bool:
    if sees_hidden(viewer):
        return True
    if post.hidden_at is not None:
        return False
    return not post.needs_approval or (viewer is not None and viewer.id == post.author_id)


def can_see_topic_state(viewer: Viewer | None, topic: Moderated) -> bool:
    if sees_hidden(viewer):
        return True
    if topic.hidden_at is not None:
        return False
    return not topic.needs_approval or (viewer is not None and viewer.id == topic.author_id)


# --- staff acting on members ----------------------------------------------------------------


def check_can_act_on(actor: Member, target: Member) -> None:
    """Moderators act on members; only admins act on staff, and nobody on an admin or
    themselves (an admin is demoted first)."""
    if actor.id == target.id:
        raise Forbidden(_("You cannot take this action on yourself."))
    if target.role == Role.admin:
        raise Forbidden(_("Admins cannot be silenced, suspended or warned."))
    if target.is_staff and not actor.is_admin:
        raise Forbidden(_("Only admins may take this action on staff."))


# --- new posts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """A new post after the checks: text with replacements made, and whether it waits for
    a moderator's approval (a held word, or one of a new member's first posts)."""

    body: str
    title: str | None
    needs_approval: bool


async def needs_first_post_approval(session: AsyncSession, member: Member) -> bool:
    if member.is_staff:
        return False
    settings = await limits.load_settings(session)
    if settings.approve_first_posts <= 0:
        return False
    # Counted only as far as the setting (at most 50): a prolific member's every post would
    # otherwise be counted again at each new one.
    rows = await read_prebuilt(
        session,
        "moderation.approved_posts",
        _approved_posts_query,
        {"p_member": member.id, "p_enough": settings.approve_first_posts},
    )
    return int(rows[0][0]) < settings.approve_first_posts


def _approved_posts_query(_insert: Any) -> Any:
    """How many of a member's posts were approved and kept, up to ``p_enough``."""
    approved = (
        select(Post.id)
        .where(
            Post.author_id == bindparam("p_member"),
            Post.needs_approval.is_(False),
            Post.deleted_at.is_(None),
        )
        .limit(bindparam("p_enough", type_=Integer))
        .subquery()
    )
    return select(func.count()).select_from(approved)


async def screen_post(
    session: AsyncSession, member: Member, *, kind: str, body: str, title: str | None = None
) -> Screened:
    """Everything moderation asks of a new topic ("topic") or reply ("reply") before it is
    stored: may the member post, not too fast, no blocked words. Raises Forbidden,
    TooManyRequests or Invalid (naming the field)."""
    check_can_participate(member)
    await check_post_rate(session, member, kind, body)
    held = False
    if title is not None:
        title, title_action = await apply_word_filters(session, title, field="title")
        held = title_action == words.HOLD
    body, body_action = await apply_word_filters(session, body, field="body")
    held = held or body_action == words.HOLD
    needs_approval = held or await needs_first_post_approval(session, member)
    return Screened(body=body, title=title, needs_approval=needs_approval)
