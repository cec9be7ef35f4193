"""Campaign analytics: reach, entries, entry rate by group, before/after activity, CSV export.

The audience of an opened campaign is who was asked when it opened (its ``campaign_invites``
rows with ``asked_at``), so the figures stay put when ranks or segments later change; before
opening it is the live audience condition.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns import policy
from app.campaigns.schemas import GroupRate, ReportOut
from app.kit.i18n import gettext as _
from app.models import (
    Activity,
    Audience,
    Campaign,
    CampaignEntry,
    CampaignInvite,
    CampaignQuestion,
    CampaignView,
    EntryStatus,
    Member,
    QuestionKind,
)

WINDOW = timedelta(days=30)
# Cells a spreadsheet would run as a formula when they start with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


async def _audience(session: AsyncSession, campaign: Campaign) -> ColumnElement[bool]:
    if campaign.opened_at is not None:
        return exists(
            select(CampaignInvite.id).where(
                CampaignInvite.campaign_id == campaign.id,
                CampaignInvite.member_id == Member.id,
                CampaignInvite.asked_at.is_not(None),
            )
        )
    return await policy.audience_condition(session, campaign)


def _entered(campaign: Campaign) -> ColumnElement[bool]:
    return exists(
        select(CampaignEntry.id).where(
            CampaignEntry.campaign_id == campaign.id, CampaignEntry.member_id == Member.id
        )
    )


def _rate(entries: int, audience: int) -> float | None:
    return round(entries / audience, 4) if audience else None


async def _count(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count(Member.id)).where(*conditions)) or 0)


async def _became_ambassadors(session: AsyncSession, campaign: Campaign) -> int | None:
    """Participants who were not confirmed ambassadors when they entered and were confirmed
    afterwards (app.analytics' status history); None while that feature is absent."""
    try:
        from app.models.ambassador_status_change import AmbassadorStatusChange
    except ImportError:
        return None
    change = AmbassadorStatusChange
    before = exists(
        select(change.id).where(
            change.member_id == CampaignEntry.member_id,
            change.to_status == policy.AMBASSADOR,
            change.created_at <= CampaignEntry.created_at,
        )
    )
    after = exists(
        select(change.id).where(
            change.member_id == CampaignEntry.member_id,
            change.to_status == policy.AMBASSADOR,
            change.created_at > CampaignEntry.created_at,
        )
    )
    value = await session.scalar(
        select(func.count(CampaignEntry.id)).where(
            CampaignEntry.campaign_id == campaign.id, not_(before), after
        )
    )
    return int(value or 0)


async def _nps(session: AsyncSession, campaign: Campaign) -> tuple[float | None, int]:
    question_id = await session.scalar(
        select(CampaignQuestion.id).where(
            CampaignQuestion.campaign_id == campaign.id,
            CampaignQuestion.kind == QuestionKind.nps.value,
        )
    )
    if question_id is None:
        return None, 0
    answers = (
        await session.execute(
            select(CampaignEntry.answers).where(CampaignEntry.campaign_id == campaign.id)
        )
    ).scalars()
    scores = [
        int(value)
        for answer in answers
        if isinstance(value := answer.get(str(question_id)), int) and not isinstance(value, bool)
    ]
    from app.analytics.metrics import nps

    result = nps(scores)
    return (round(result.nps, 1) if result.nps is not None else None), result.responses


async def report(session: AsyncSession, campaign: Campaign) -> ReportOut:
    audience = await _audience(session, campaign)
    entered = _entered(campaign)
    size = await _count(session, audience)
    entries = await _count(session, entered)
    groups: list[GroupRate] = []
    ambassador = policy.score_condition(Audience.ambassadors)
    candidate = policy.score_condition(Audience.candidates)
    for name, condition in (
        ("ambassadors", ambassador),
        ("candidates", candidate),
        ("others", and_(not_(ambassador), not_(candidate))),
    ):
        in_group = await _count(session, audience, condition)
        entered_group = await _count(session, audience, condition, entered)
        groups.append(
            GroupRate(
                group=name,
                audience=in_group,
                entries=entered_group,
                rate=_rate(entered_group, in_group),
            )
        )
    views = int(
        await session.scalar(
            select(func.count(CampaignView.id)).where(CampaignView.campaign_id == campaign.id)
        )
        or 0
    )
    winners = int(
        await session.scalar(
            select(func.count(CampaignEntry.id)).where(
                CampaignEntry.campaign_id == campaign.id,
                CampaignEntry.status == EntryStatus.selected.value,
            )
        )
        or 0
    )
    attended = int(
        await session.scalar(
            select(func.count(CampaignEntry.id)).where(
                CampaignEntry.campaign_id == campaign.id, CampaignEntry.attended.is_(True)
            )
        )
        or 0
    )
    start = campaign.opened_at or campaign.starts_at
    end = campaign.closed_at or campaign.ends_at
    participants = select(CampaignEntry.member_id).where(CampaignEntry.campaign_id == campaign.id)
    not_campaign = not_(Activity.verb.like("campaign.%"))

    async def activity_between(since: object, until: object) -> int:
        value = await session.scalar(
            select(func.count(Activity.id)).where(
                Activity.actor_id.in_(participants),
                Activity.occurred_at >= since,
                Activity.occurred_at < until,
                not_campaign,
            )
        )
        return int(value or 0)

    nps_value, nps_responses = await _nps(session, campaign)
    return ReportOut(
        audience=size,
        views=views,
        entries=entries,
        entry_rate=_rate(entries, size),
        winners=winners,
        attended=attended,
        groups=groups,
        activity_before=await activity_between(start - WINDOW, start),
        activity_after=await activity_between(end, end + WINDOW),
        participants=entries,
        candidates_became_ambassadors=await _became_ambassadors(session, campaign),
        nps=nps_value,
        nps_responses=nps_responses,
    )


def neutralise(value: object) -> str:
    """A cell that cannot run as a spreadsheet formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


@dataclass(frozen=True)
class CsvColumn:
    title: str
    question_id: int | None = None


async def entries_csv(session: AsyncSession, campaign: Campaign) -> str:
    """Every entry with its member, status and answers, one row each."""
    questions: Sequence[CampaignQuestion] = list(
        (
            await session.execute(
                select(CampaignQuestion)
                .where(CampaignQuestion.campaign_id == campaign.id)
                .order_by(CampaignQuestion.position, CampaignQuestion.id)
            )
        ).scalars()
    )
    rows = (
        await session.execute(
            select(CampaignEntry, Member.handle, Member.display_name)
            .join(Member, Member.id == CampaignEntry.member_id)
            .where(CampaignEntry.campaign_id == campaign.id)
            .order_by(CampaignEntry.id)
        )
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    header = [
        _("Entry"),
        _("Handle"),
        _("Name"),
        _("Status"),
        _("Attended"),
        _("Entered at"),
        _("Text"),
    ] + [question.prompt for question in questions]
    writer.writerow([neutralise(cell) for cell in header])
    for entry, handle, name in rows:
        answers = [entry.answers.get(str(question.id), "") for question in questions]
        cells: list[object] = [
            entry.id,
            handle,
            name,
            entry.status,
            "" if entry.attended is None else ("yes" if entry.attended else "no"),
            entry.created_at.isoformat(),
            entry.body,
            *answers,
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return out.getvalue()
