"""Reads for campaigns. Every member-facing read filters with app.campaigns.policy in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns import policy
from app.kit import clock
from app.kit.errors import NotFound
from app.models import (
    Campaign,
    CampaignEntry,
    CampaignEntryPhoto,
    CampaignInvite,
    CampaignQuestion,
    Member,
    Rank,
    Upload,
)

PAGE_SIZE = 20
AUDIENCE_PAGE = 50


@dataclass(frozen=True)
class Listed:
    campaign: Campaign
    locked: bool
    cover_url: str | None


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _search(q: str) -> ColumnElement[bool]:
    """Substring search over titles and descriptions in both languages (works for Japanese,
    which has no spaces between words). Campaigns are few; a scan of the visible ones is fine."""
    pattern = _like(q)
    columns = (
        Campaign.title_en,
        Campaign.title_ja,
        Campaign.description_en,
        Campaign.description_ja,
    )
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


async def upload_urls(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({upload_id for upload_id in ids if upload_id is not None})
    if not wanted:
        return {}
    rows = await session.execute(select(Upload).where(Upload.id.in_(wanted)))
    return {upload.id: upload.url for upload in rows.scalars()}


async def list_campaigns(
    session: AsyncSession,
    viewer: Member | None,
    *,
    q: str = "",
    cursor: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Listed], int | None]:
    """Campaigns the viewer may see (newest first), locked teasers flagged; keyset by id."""
    listed, full = await policy.visible_condition(session, viewer)
    stmt = (
        select(Campaign, full.label("full"))
        .where(listed)
        .order_by(Campaign.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        stmt = stmt.where(Campaign.id < cursor)
    if q.strip():
        # Search never reveals more than the teaser shows: locked ones match on the title only.
        pattern = _like(q.strip())
        titles = or_(
            func.lower(Campaign.title_en).like(pattern, escape="\\"),
            func.lower(Campaign.title_ja).like(pattern, escape="\\"),
        )
        stmt = stmt.where(or_(titles, full & _search(q.strip())))
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    covers = await upload_urls(session, [row[0].cover_upload_id for row in rows])
    items = [
        Listed(
            campaign=campaign,
            locked=not bool(is_full),
            cover_url=covers.get(campaign.cover_upload_id or 0),
        )
        for campaign, is_full in rows
    ]
    return items, (items[-1].campaign.id if more and items else None)


async def visible_campaign(
    session: AsyncSession, viewer: Member | None, campaign_id: int
) -> tuple[Campaign, bool]:
    """The campaign and whether it is a locked teaser for this viewer; 404 if unseen."""
    listed, full = await policy.visible_condition(session, viewer)
    row = (
        await session.execute(
            select(Campaign, full.label("full")).where(Campaign.id == campaign_id, listed)
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    return row[0], not bool(row[1])


async def open_campaign_for(session: AsyncSession, viewer: Member, campaign_id: int) -> Campaign:
    """A campaign the viewer may take part in (not a teaser); 404 otherwise."""
    campaign, locked = await visible_campaign(session, viewer, campaign_id)
    if locked:
        raise NotFound()
    return campaign


async def managed_campaign(
    session: AsyncSession, campaign_id: int, *, lock: bool = False
) -> Campaign:
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()
    campaign = (await session.execute(stmt)).scalar_one_or_none()
    if campaign is None:
        raise NotFound()
    return campaign


async def all_campaigns(
    session: AsyncSession, *, cursor: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[Campaign], int | None]:
    stmt = select(Campaign).order_by(Campaign.id.desc()).limit(limit + 1)
    if cursor is not None:
        stmt = stmt.where(Campaign.id < cursor)
    rows = list((await session.execute(stmt)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def questions(session: AsyncSession, campaign_id: int) -> list[CampaignQuestion]:
    rows = await session.execute(
        select(CampaignQuestion)
        .where(CampaignQuestion.campaign_id == campaign_id)
        .order_by(CampaignQuestion.position, CampaignQuestion.id)
    )
    return list(rows.scalars())


async def my_entry(session: AsyncSession, campaign_id: int, member_id: int) -> CampaignEntry | None:
    return (
        await session.execute(
            select(CampaignEntry).where(
                CampaignEntry.campaign_id == campaign_id, CampaignEntry.member_id == member_id
            )
        )
    ).scalar_one_or_none()


async def photo_urls(session: AsyncSession, entry_ids: Sequence[int]) -> dict[int, list[str]]:
    if not entry_ids:
        return {}
    rows = await session.execute(
        select(CampaignEntryPhoto.entry_id, Upload.storage_name)
        .join(Upload, Upload.id == CampaignEntryPhoto.upload_id)
        .where(CampaignEntryPhoto.entry_id.in_(list(entry_ids)))
        .order_by(CampaignEntryPhoto.entry_id, CampaignEntryPhoto.position)
    )
    found: dict[int, list[str]] = {}
    for entry_id, name in rows.all():
        found.setdefault(int(entry_id), []).append(f"/uploads/{name}")
    return found


@dataclass
class EntryRow:
    entry: CampaignEntry
    member: Member
    photos: list[str] = field(default_factory=list)


async def entries(
    session: AsyncSession,
    campaign_id: int,
    *,
    cursor: int | None = None,
    limit: int = PAGE_SIZE,
    newest_first: bool = True,
) -> tuple[list[EntryRow], int | None]:
    """Entries with their members and photos, keyset by id (gallery and operator list)."""
    order = CampaignEntry.id.desc() if newest_first else CampaignEntry.id.asc()
    stmt = (
        select(CampaignEntry, Member)
        .join(Member, Member.id == CampaignEntry.member_id)
        .where(CampaignEntry.campaign_id == campaign_id)
        .order_by(order)
        .limit(limit + 1)
    )
    if cursor is not None:
        stmt = stmt.where(CampaignEntry.id < cursor if newest_first else CampaignEntry.id > cursor)
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    photos = await photo_urls(session, [entry.id for entry, _member in rows])
    items = [EntryRow(entry, member, photos.get(entry.id, [])) for entry, member in rows]
    return items, (items[-1].entry.id if more and items else None)


@dataclass(frozen=True)
class Fatigue:
    asked: int
    entered: int


async def fatigue_counts(
    session: AsyncSession, member_ids: Sequence[int], days: int
) -> dict[int, Fatigue]:
    """How many campaigns each member was asked to join and entered in the last ``days``."""
    if not member_ids:
        return {}
    since = clock.now() - timedelta(days=days)
    ids = list(member_ids)
    asked: dict[int, int] = {
        int(member_id): int(count)
        for member_id, count in (
            await session.execute(
                select(CampaignInvite.member_id, func.count())
                .where(
                    CampaignInvite.member_id.in_(ids),
                    CampaignInvite.asked_at.is_not(None),
                    CampaignInvite.asked_at >= since,
                )
                .group_by(CampaignInvite.member_id)
            )
        ).all()
    }
    entered: dict[int, int] = {
        int(member_id): int(count)
        for member_id, count in (
            await session.execute(
                select(CampaignEntry.member_id, func.count())
                .where(CampaignEntry.member_id.in_(ids), CampaignEntry.created_at >= since)
                .group_by(CampaignEntry.member_id)
            )
        ).all()
    }
    return {
        member_id: Fatigue(int(asked.get(member_id, 0)), int(entered.get(member_id, 0)))
        for member_id in ids
    }


@dataclass(frozen=True)
class AudienceRow:
    member: Member
    fatigue: Fatigue
    entered: bool


async def audience_page(
    session: AsyncSession,
    campaign: Campaign,
    *,
    days: int,
    cursor: int | None = None,
    limit: int = AUDIENCE_PAGE,
) -> tuple[list[AudienceRow], int | None, int]:
    """One page of the campaign's audience with ask-fatigue counts, and the audience size."""
    condition = await policy.audience_condition(session, campaign)
    size = int(await session.scalar(select(func.count(Member.id)).where(condition)) or 0)
    stmt = select(Member).where(condition).order_by(Member.id).limit(limit + 1)
    if cursor is not None:
        stmt = stmt.where(Member.id > cursor)
    members = list((await session.execute(stmt)).scalars())
    more = len(members) > limit
    members = members[:limit]
    ids = [member.id for member in members]
    counts = await fatigue_counts(session, ids, days)
    entered = (
        set(
            (
                await session.execute(
                    select(CampaignEntry.member_id).where(
                        CampaignEntry.campaign_id == campaign.id,
                        CampaignEntry.member_id.in_(ids),
                    )
                )
            ).scalars()
        )
        if ids
        else set()
    )
    rows = [AudienceRow(member, counts[member.id], member.id in entered) for member in members]
    return rows, (members[-1].id if more and members else None), size


async def invited_handles(session: AsyncSession, campaign_id: int) -> list[str]:
    rows = await session.execute(
        select(Member.handle)
        .join(CampaignInvite, CampaignInvite.member_id == Member.id)
        .where(CampaignInvite.campaign_id == campaign_id, CampaignInvite.invited.is_(True))
        .order_by(Member.handle)
    )
    return list(rows.scalars())


async def ranks(session: AsyncSession) -> list[Rank]:
    return list((await session.execute(select(Rank).order_by(Rank.threshold))).scalars())


async def rank_name(session: AsyncSession, rank_id: int | None) -> str | None:
    if rank_id is None:
        return None
    rank = await session.get(Rank, rank_id)
    return rank.name if rank else None


async def segments(session: AsyncSession) -> list[tuple[int, str]]:
    """Saved segments (app.analytics) for the audience picker; none while it is absent."""
    try:
        from app.models.analytics_segment import AnalyticsSegment
    except ImportError:
        return []
    rows = await session.execute(
        select(AnalyticsSegment.id, AnalyticsSegment.name).order_by(AnalyticsSegment.name)
    )
    return [(int(segment_id), str(name)) for segment_id, name in rows.all()]
