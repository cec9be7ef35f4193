"""Who may see and enter a campaign, as SQL conditions every read uses.

Lists, pages, the API, search, notifications and exports all go through these conditions, so a
member outside a campaign's audience cannot reach it anywhere: they get 404. The only
exception is an operator's opt-in locked teaser, which shows the title and who it is for.

Two forms of the same rule:
- :func:`audience_condition` (a condition on ``members``) for one campaign: who is in it;
- :func:`visible_condition` (a condition on ``campaigns``) for one viewer: what they may see.
A test checks that both agree for every kind of audience.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.models import (
    Audience,
    Campaign,
    CampaignEntry,
    CampaignInvite,
    CampaignState,
    Member,
    Rank,
)

# States a member can ever see; drafts and scheduled campaigns are for operators only.
PUBLIC_STATES = (
    CampaignState.open.value,
    CampaignState.closed.value,
    CampaignState.announced.value,
)
AMBASSADOR = "confirmed"
CANDIDATE = "candidate"


def may_manage(viewer: Member | None) -> bool:
    return viewer is not None and viewer.can_operate


# --- analytics-backed audiences ------------------------------------------------------------------


def score_condition(kind: str) -> ColumnElement[bool]:
    """Ambassadors (confirmed by an operator) and candidates (detected, not yet confirmed),
    from app.analytics' per-member scores; nobody while that feature is absent."""
    try:
        from app.models.analytics_member_score import AnalyticsMemberScore
    except ImportError:
        return false()
    score = AnalyticsMemberScore
    if kind == Audience.ambassadors:
        wanted: ColumnElement[bool] = score.ambassador_status == AMBASSADOR
    else:
        wanted = and_(score.detection == CANDIDATE, score.ambassador_status != AMBASSADOR)
    return exists(select(score.member_id).where(score.member_id == Member.id, wanted))


async def _segment_condition(session: AsyncSession, segment_id: int | None) -> ColumnElement[bool]:
    """Members of a saved segment (app.analytics' member filter, evaluated now), as one
    subquery; nobody when the segment or the feature is missing."""
    if segment_id is None:
        return false()
    try:
        from app.analytics import policy as analytics_policy
        from app.analytics import segments
        from app.models import AnalyticsMemberScore, AnalyticsSegment, MemberExternal
    except ImportError:
        return false()
    segment = await session.get(AnalyticsSegment, segment_id)
    if segment is None:
        return false()
    members = (
        select(Member.id)
        .outerjoin(AnalyticsMemberScore, AnalyticsMemberScore.member_id == Member.id)
        .outerjoin(MemberExternal, MemberExternal.member_id == Member.id)
        .where(Member.role.in_(analytics_policy.POPULATION_ROLES))
        .where(*segments.conditions(segments.segment_filter(segment), clock.community_day()))
        # Its own FROM members: never correlated with the enclosing query's members.
        .correlate(None)
    )
    return Member.id.in_(members)


async def _segments_of(session: AsyncSession, member_id: int) -> list[int]:
    """The saved segments, used by public segment campaigns, that a member belongs to (one
    query per such segment; segments are few)."""
    ids = [
        int(segment_id)
        for segment_id in (
            await session.execute(
                select(Campaign.audience_segment_id)
                .where(
                    Campaign.audience == Audience.segment.value,
                    Campaign.state.in_(PUBLIC_STATES),
                    Campaign.audience_segment_id.is_not(None),
                )
                .distinct()
            )
        ).scalars()
        if segment_id is not None
    ]
    found: list[int] = []
    for segment_id in ids:
        condition = await _segment_condition(session, segment_id)
        hit = await session.scalar(select(Member.id).where(Member.id == member_id, condition))
        if hit is not None:
            found.append(segment_id)
    return found


# --- one campaign: who is in its audience --------------------------------------------------------


def fatigue_window(campaign: Campaign, moment: datetime | None = None) -> tuple[datetime, datetime]:
    """Asks that count against a campaign: those in the ``fatigue_days`` before it opened
    (before now, while it is still a draft)."""
    until = campaign.opened_at or moment or clock.now()
    return until - timedelta(days=campaign.fatigue_days), until


def _asked_count(member_id: Any, campaign_id: Any, since: Any, until: Any) -> Any:
    return (
        select(func.count(CampaignInvite.id))
        .where(
            CampaignInvite.member_id == member_id,
            CampaignInvite.campaign_id != campaign_id,
            CampaignInvite.asked_at.is_not(None),
            CampaignInvite.asked_at >= since,
            CampaignInvite.asked_at < until,
        )
        .scalar_subquery()
    )


async def audience_condition(session: AsyncSession, campaign: Campaign) -> ColumnElement[bool]:
    """A condition on ``members``: the campaign's audience (verified members of its kind,
    minus those asked too often when the operator set an ask-fatigue limit)."""
    kind = campaign.audience
    base: ColumnElement[bool]
    if kind == Audience.everyone:
        base = true()
    elif kind == Audience.rank:
        base = exists(
            select(Rank.id).where(
                Rank.id == campaign.audience_rank_id, Rank.threshold <= Member.lifetime_points
            )
        )
    elif kind == Audience.invited:
        base = exists(
            select(CampaignInvite.id).where(
                CampaignInvite.campaign_id == campaign.id,
                CampaignInvite.member_id == Member.id,
                CampaignInvite.invited.is_(True),
            )
        )
    elif kind in (Audience.ambassadors, Audience.candidates):
        base = score_condition(kind)
    elif kind == Audience.segment:
        base = await _segment_condition(session, campaign.audience_segment_id)
    else:
        base = false()
    conditions: list[ColumnElement[bool]] = [Member.email_verified_at.is_not(None), base]
    if campaign.fatigue_limit is not None:
        since, until = fatigue_window(campaign)
        conditions.append(
            _asked_count(Member.id, campaign.id, since, until) <= campaign.fatigue_limit
        )
    return and_(*conditions)


async def audience_member_ids(session: AsyncSession, campaign: Campaign) -> list[int]:
    """Everyone in the campaign's audience, by id: notifications use it for ``campaign.opened``
    (and anything else sent to "the audience")."""
    condition = await audience_condition(session, campaign)
    rows = await session.execute(select(Member.id).where(condition).order_by(Member.id))
    return [int(member_id) for member_id in rows.scalars()]


async def in_audience(session: AsyncSession, campaign: Campaign, member: Member) -> bool:
    condition = await audience_condition(session, campaign)
    hit = await session.scalar(select(Member.id).where(Member.id == member.id, condition))
    return hit is not None


# --- one viewer: which campaigns they may see ----------------------------------------------------


async def viewer_audience_condition(session: AsyncSession, viewer: Member) -> ColumnElement[bool]:
    """A condition on ``campaigns``: the viewer is in the campaign's audience (any state)."""
    points = select(Member.lifetime_points).where(Member.id == viewer.id).scalar_subquery()
    kinds: list[ColumnElement[bool]] = [
        Campaign.audience == Audience.everyone.value,
        and_(
            Campaign.audience == Audience.rank.value,
            exists(
                select(Rank.id).where(
                    Rank.id == Campaign.audience_rank_id, Rank.threshold <= points
                )
            ),
        ),
        and_(
            Campaign.audience == Audience.invited.value,
            exists(
                select(CampaignInvite.id).where(
                    CampaignInvite.campaign_id == Campaign.id,
                    CampaignInvite.member_id == viewer.id,
                    CampaignInvite.invited.is_(True),
                )
            ),
        ),
    ]
    for kind in (Audience.ambassadors, Audience.candidates):
        score = score_condition(kind)
        hit = await session.scalar(select(Member.id).where(Member.id == viewer.id, score))
        if hit is not None:
            kinds.append(Campaign.audience == kind.value)
    segment_ids = await _segments_of(session, viewer.id)
    if segment_ids:
        kinds.append(
            and_(
                Campaign.audience == Audience.segment.value,
                Campaign.audience_segment_id.in_(segment_ids),
            )
        )
    not_fatigued = or_(
        Campaign.fatigue_limit.is_(None),
        Campaign.opened_at.is_(None),
        _asked_count(viewer.id, Campaign.id, Campaign.fatigue_since, Campaign.opened_at)
        <= Campaign.fatigue_limit,
    )
    verified = true() if viewer.email_verified_at is not None else false()
    return and_(verified, or_(*kinds), not_fatigued)


def _entered(viewer: Member) -> ColumnElement[bool]:
    return exists(
        select(CampaignEntry.id).where(
            CampaignEntry.campaign_id == Campaign.id, CampaignEntry.member_id == viewer.id
        )
    )


async def member_condition(session: AsyncSession, viewer: Member | None) -> ColumnElement[bool]:
    """A condition on ``campaigns``: what the viewer may see in full and take part in.
    Operators see everything; members see public campaigns of their audience, and any
    campaign they entered."""
    if viewer is None:
        return false()
    if may_manage(viewer):
        return true()
    audience = await viewer_audience_condition(session, viewer)
    return and_(Campaign.state.in_(PUBLIC_STATES), or_(audience, _entered(viewer)))


async def visible_condition(
    session: AsyncSession, viewer: Member | None
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(what the viewer may list at all, what they may see in full). The difference is the
    locked teasers an operator chose to show."""
    full = await member_condition(session, viewer)
    teaser = and_(Campaign.state.in_(PUBLIC_STATES), Campaign.teaser.is_(True))
    return or_(full, teaser), full


def may_see_entries(viewer: Member | None) -> bool:
    return may_manage(viewer)
