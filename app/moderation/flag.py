"""Flags: members report a post; enough weight hides it at once, pending review.

A flag's weight is fixed when it is raised: ``2 x accuracy x rank factor``, where accuracy is
``(accepted + 1) / (accepted + rejected + 2)`` (a newcomer starts at 1/2) and the rank factor
grows from 1 to 2 with lifetime points (up to 1,000). A new member's flag weighs 1; a long-
standing, accurate flagger's nearly 4. A moderator's flag weighs the whole threshold.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import service as activity
from app.activity import verbs
from app.kit import clock, ratelimit
from app.kit.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from app.kit.i18n import LazyString, lazy_gettext
from app.kit.i18n import gettext as _
from app.models import Flag, Member, Post
from app.moderation import limits, policy, queries
from app.moderation.hide import hide_post

REASONS: dict[str, LazyString] = {
    "spam": lazy_gettext("Spam"),
    "inappropriate": lazy_gettext("Inappropriate"),
    "off_topic": lazy_gettext("Off-topic"),
    "other": lazy_gettext("Something else"),
}
RANK_POINTS_CAP = 1000
PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"


def reason_label(reason: str) -> str:
    label = REASONS.get(reason)
    return str(label) if label is not None else reason


def flag_weight(member: Member, threshold: float) -> float:
    if member.can_moderate:
        return threshold
    accuracy = (member.flags_accepted + 1) / (member.flags_accepted + member.flags_rejected + 2)
    rank_factor = 1 + min(max(member.lifetime_points, 0), RANK_POINTS_CAP) / RANK_POINTS_CAP
    return round(2 * accuracy * rank_factor, 3)


async def pending_score(session: AsyncSession, post_id: int) -> float:
    total = await session.scalar(
        select(func.coalesce(func.sum(Flag.weight), 0.0)).where(
            Flag.post_id == post_id, Flag.status == PENDING
        )
    )
    return float(total or 0.0)


async def flag_post(
    session: AsyncSession, member: Member, post_id: int, reason: str, message: str = ""
) -> tuple[Flag, bool]:
    """Raise a flag. Returns the flag and whether the post is now hidden by flags."""
    from app.forums.policy import can_see_topic

    target = await queries.post_target(session, post_id)
    post, topic = target.post, target.topic
    if (
        not can_see_topic(member, target.category, topic)
        or not policy.can_see_post(member, post)
        or post.deleted_at is not None
    ):
        raise NotFound()
    policy.check_can_participate(member)
    if post.author_id == member.id:
        raise Forbidden(_("You cannot flag your own post."))
    if reason == "other" and not message.strip():
        raise Invalid(_("Tell the moderators what is wrong with this post."), field="message")
    settings = await limits.load_settings(session)
    existing = await session.scalar(
        select(Flag.id).where(Flag.post_id == post.id, Flag.flagger_id == member.id)
    )
    if existing is not None:
        raise Conflict(_("You have already flagged this post."))
    if not member.is_staff:
        wait = await ratelimit.consume(session, f"flags:{member.id}", settings.flags_per_day, 86400)
        if wait is not None:
            hours = max(1, (wait + 3599) // 3600)
            raise TooManyRequests(
                wait,
                _(
                    "You have used today's flags. You can flag again in about %(num)s h.",
                    num=hours,
                ),
            )
    flag = Flag(
        post_id=post.id,
        flagger_id=member.id,
        reason=reason,
        message=message.strip(),
        weight=flag_weight(member, settings.flag_threshold),
        status=PENDING,
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(flag)
            await session.flush()
    except IntegrityError:
        # A second tab raced this one to the same flag.
        raise Conflict(_("You have already flagged this post.")) from None
    hidden = False
    if post.hidden_at is None and await pending_score(session, post.id) >= settings.flag_threshold:
        top = await _top_reason(session, post.id)
        hidden = await hide_post(
            session, None, post, topic, reason_label(top), describe=lambda: reason_label(top)
        )
    return flag, hidden or post.hidden_at is not None


async def _top_reason(session: AsyncSession, post_id: int) -> str:
    row = (
        await session.execute(
            select(Flag.reason, func.sum(Flag.weight).label("total"))
            .where(Flag.post_id == post_id, Flag.status == PENDING)
            .group_by(Flag.reason)
            .order_by(func.sum(Flag.weight).desc(), Flag.reason)
            .limit(1)
        )
    ).one_or_none()
    return str(row[0]) if row is not None else "other"


async def resolve_flags(
    session: AsyncSession, moderator: Member, post: Post, *, accepted: bool, reason: str
) -> int:
    """Close every pending flag on ``post``; tell each flagger the outcome, keep their
    accuracy, and record ``flag.accepted`` for the accepted ones (points may pay for it)."""
    flags = list(
        (
            await session.execute(
                select(Flag)
                .where(Flag.post_id == post.id, Flag.status == PENDING)
                .order_by(Flag.id)
            )
        ).scalars()
    )
    if not flags:
        return 0
    outcome = ACCEPTED if accepted else REJECTED
    now = clock.now()
    for flag in flags:
        flag.status = outcome
        flag.resolved_at = now
        flag.resolved_by_id = moderator.id
    await session.flush()
    counter = Member.flags_accepted if accepted else Member.flags_rejected
    await session.execute(
        update(Member)
        .where(Member.id.in_([flag.flagger_id for flag in flags]))
        .values({counter: counter + 1})
    )
    for flag in flags:
        if accepted:
            await activity.record(
                session,
                verbs.FLAG_ACCEPTED,
                actor_id=flag.flagger_id,
                subject=("post", post.id),
                data={"flag_id": flag.id, "topic_id": post.topic_id},
                dedupe_key=f"flag.accepted:{flag.id}",
            )
        await activity.record(
            session,
            verbs.FLAG_RESOLVED,
            actor_id=moderator.id,
            recipient_id=flag.flagger_id,
            subject=("post", post.id),
            data={
                "outcome": outcome,
                "post_id": post.id,
                "topic_id": post.topic_id,
                "reason": reason,
            },
        )
    return len(flags)
