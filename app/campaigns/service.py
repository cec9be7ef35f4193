"""Campaigns: the only code that writes campaigns, questions, invites, entries and views.

States move draft -> scheduled -> open -> closed -> announced. Opening records who was asked
(ask-fatigue counts those rows) and one ``campaign.opened`` activity; notifications resolve its
audience with :func:`app.campaigns.policy.audience_member_ids`. Entering is atomic: a first-come
campaign takes a seat with one conditional ``UPDATE ... WHERE entry_count < capacity``, so
concurrent entries never oversell it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.campaigns import lottery, policy
from app.campaigns.schemas import CampaignIn, DrawOut, EntryIn, QuestionIn
from app.db import after_commit, get_database
from app.forums.markdown import cook
from app.kit import clock
from app.kit.errors import Conflict, Invalid, NotFound
from app.kit.i18n import gettext as _
from app.kit.sql import insert
from app.models import (
    AuditLog,
    Campaign,
    CampaignEntry,
    CampaignEntryPhoto,
    CampaignInvite,
    CampaignKind,
    CampaignQuestion,
    CampaignState,
    CampaignView,
    EntryStatus,
    Member,
    QuestionKind,
    Rank,
    Selection,
    Upload,
    UploadPurpose,
)

logger = logging.getLogger(__name__)
ASK_BATCH = 500
TEXT_ANSWER_MAX = 2000
EDITABLE_STATES = (CampaignState.draft.value, CampaignState.scheduled.value)


async def _audit(
    session: AsyncSession, actor: Member | None, action: str, campaign: Campaign, **data: Any
) -> None:
    session.add(
        AuditLog(
            actor_id=actor.id if actor else None,
            action=action,
            target_type="campaign",
            target_id=campaign.id,
            data=data,
            created_at=clock.now(),
        )
    )
    await session.flush()


# --- operators: create and edit ------------------------------------------------------------------


async def _check_references(session: AsyncSession, data: CampaignIn, operator: Member) -> None:
    if data.audience == "rank" and await session.get(Rank, data.audience_rank_id) is None:
        raise Invalid(_("This rank does not exist."), field="audience_rank_id")
    if data.audience == "segment":
        try:
            from app.models.analytics_segment import AnalyticsSegment
        except ImportError:
            raise Invalid(
                _("Saved segments are not available."), field="audience_segment_id"
            ) from None
        if await session.get(AnalyticsSegment, data.audience_segment_id) is None:
            raise Invalid(_("This segment does not exist."), field="audience_segment_id")
    if data.cover_upload_id is not None:
        await image_upload(session, data.cover_upload_id, operator, field="cover_upload_id")


async def image_upload(
    session: AsyncSession, upload_id: int, member: Member, *, field: str
) -> Upload:
    """An uploaded image the member may attach: their own (staff may use anyone's)."""
    upload = await session.get(Upload, upload_id)
    if upload is None or upload.purpose != UploadPurpose.post.value:
        raise Invalid(_("This image does not exist."), field=field)
    if upload.uploader_member_id != member.id and not member.is_staff:
        raise Invalid(_("This image does not exist."), field=field)
    return upload


def _apply(campaign: Campaign, data: CampaignIn) -> None:
    campaign.title_en = data.title_en
    campaign.title_ja = data.title_ja
    campaign.description_en = data.description_en
    campaign.description_ja = data.description_ja
    campaign.description_en_html = cook(data.description_en).html if data.description_en else ""
    campaign.description_ja_html = cook(data.description_ja).html if data.description_ja else ""
    campaign.kind = data.kind
    campaign.starts_at = data.starts_at
    campaign.ends_at = data.ends_at
    campaign.audience = data.audience
    campaign.audience_rank_id = data.audience_rank_id if data.audience == "rank" else None
    campaign.audience_segment_id = data.audience_segment_id if data.audience == "segment" else None
    campaign.teaser = data.teaser
    campaign.selection = data.selection
    campaign.capacity = data.capacity
    campaign.fatigue_limit = data.fatigue_limit
    campaign.fatigue_days = data.fatigue_days
    campaign.cover_upload_id = data.cover_upload_id
    campaign.updated_at = clock.now()


async def _replace_questions(
    session: AsyncSession, campaign: Campaign, questions: Sequence[QuestionIn]
) -> None:
    existing = (
        await session.execute(
            select(CampaignQuestion).where(CampaignQuestion.campaign_id == campaign.id)
        )
    ).scalars()
    for old in existing:
        await session.delete(old)
    for position, question in enumerate(questions):
        session.add(
            CampaignQuestion(
                campaign_id=campaign.id,
                position=position,
                kind=question.kind,
                prompt_en=question.prompt_en,
                prompt_ja=question.prompt_ja,
                choices=list(question.choices),
                required=question.required,
            )
        )
    await session.flush()


async def create_campaign(session: AsyncSession, operator: Member, data: CampaignIn) -> Campaign:
    await _check_references(session, data, operator)
    campaign = Campaign(state=CampaignState.draft.value, created_by_id=operator.id)
    _apply(campaign, data)
    session.add(campaign)
    await session.flush()
    await _replace_questions(session, campaign, data.questions)
    await _audit(session, operator, "campaigns.create", campaign, title=data.title_en)
    return campaign


async def update_campaign(
    session: AsyncSession, operator: Member, campaign: Campaign, data: CampaignIn
) -> Campaign:
    """Everything may change before opening; afterwards only the texts, the cover, the end
    and the teaser (members already entered under the rest)."""
    await _check_references(session, data, operator)
    if campaign.state in EDITABLE_STATES:
        _apply(campaign, data)
        await _replace_questions(session, campaign, data.questions)
    else:
        if data.ends_at <= campaign.starts_at:
            raise Invalid(_("The end must be after the start."), field="ends_at")
        frozen = {
            "kind": campaign.kind,
            "audience": campaign.audience,
            "selection": campaign.selection,
            "capacity": campaign.capacity,
        }
        changed = {key for key, value in frozen.items() if getattr(data, key) != value}
        if changed:
            raise Conflict(
                _("Type, audience and selection cannot change once the campaign has opened."),
                field=sorted(changed)[0],
            )
        campaign.title_en = data.title_en
        campaign.title_ja = data.title_ja
        campaign.description_en = data.description_en
        campaign.description_ja = data.description_ja
        campaign.description_en_html = cook(data.description_en).html if data.description_en else ""
        campaign.description_ja_html = cook(data.description_ja).html if data.description_ja else ""
        campaign.cover_upload_id = data.cover_upload_id
        campaign.ends_at = data.ends_at
        campaign.teaser = data.teaser
        campaign.updated_at = clock.now()
    await session.flush()
    await _audit(session, operator, "campaigns.update", campaign)
    return campaign


async def invite_members(
    session: AsyncSession, operator: Member, campaign: Campaign, handles: Sequence[str]
) -> int:
    """Put members on the campaign's invited list (by handle). Returns how many were named."""
    wanted = sorted({handle.strip().lstrip("@").lower() for handle in handles if handle.strip()})
    if not wanted:
        raise Invalid(_("Enter at least one member handle."), field="handles")
    rows = (
        await session.execute(select(Member.id, Member.handle).where(Member.handle.in_(wanted)))
    ).all()
    found = {str(handle).lower(): int(member_id) for member_id, handle in rows}
    missing = [handle for handle in wanted if handle not in found]
    if missing:
        raise Invalid(
            _("No member has the handle %(handles)s.", handles=", ".join(missing[:10])),
            field="handles",
        )
    now = clock.now()
    for member_id in found.values():
        stmt = insert(session, CampaignInvite).values(
            campaign_id=campaign.id, member_id=member_id, invited=True, created_at=now
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[CampaignInvite.campaign_id, CampaignInvite.member_id],
                set_={"invited": True},
            )
        )
    await _audit(session, operator, "campaigns.invite", campaign, members=sorted(found.values()))
    if campaign.state == CampaignState.open:
        # Invited after opening: they are asked now.
        await _ask(session, campaign, list(found.values()), now)
    return len(found)


# --- states --------------------------------------------------------------------------------------


def _require_state(campaign: Campaign, *states: CampaignState) -> None:
    if campaign.state not in {state.value for state in states}:
        raise Conflict(
            _("This cannot be done while the campaign is %(state)s.", state=state_label(campaign))
        )


def state_label(campaign: Campaign) -> str:
    labels = {
        CampaignState.draft: _("a draft"),
        CampaignState.scheduled: _("scheduled"),
        CampaignState.open: _("open"),
        CampaignState.closed: _("closed"),
        CampaignState.announced: _("announced"),
    }
    return labels.get(CampaignState(campaign.state), campaign.state)


async def schedule(session: AsyncSession, operator: Member, campaign: Campaign) -> Campaign:
    """Draft -> scheduled: it opens by itself at its start (or now, if that has passed)."""
    _require_state(campaign, CampaignState.draft)
    campaign.state = CampaignState.scheduled.value
    campaign.updated_at = clock.now()
    await _audit(session, operator, "campaigns.schedule", campaign)
    if campaign.starts_at <= clock.now():
        await open_campaign(session, campaign, operator)
    await session.flush()
    return campaign


async def _ask(
    session: AsyncSession, campaign: Campaign, member_ids: Sequence[int], moment: datetime
) -> None:
    for start in range(0, len(member_ids), ASK_BATCH):
        batch = member_ids[start : start + ASK_BATCH]
        stmt = insert(session, CampaignInvite).values(
            [
                {
                    "campaign_id": campaign.id,
                    "member_id": member_id,
                    "invited": False,
                    "asked_at": moment,
                    "created_at": moment,
                }
                for member_id in batch
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[CampaignInvite.campaign_id, CampaignInvite.member_id],
                set_={"asked_at": stmt.excluded.asked_at},
            )
        )


async def open_campaign(
    session: AsyncSession, campaign: Campaign, operator: Member | None
) -> Campaign:
    """Open for entries: remember who was asked, and tell them (``campaign.opened``)."""
    _require_state(campaign, CampaignState.draft, CampaignState.scheduled)
    now = clock.now()
    campaign.state = CampaignState.open.value
    campaign.opened_at = now
    campaign.fatigue_since = now - timedelta(days=campaign.fatigue_days)
    if campaign.starts_at > now:
        campaign.starts_at = now
    campaign.updated_at = now
    await session.flush()
    await _ask(session, campaign, await policy.audience_member_ids(session, campaign), now)
    await record(
        session,
        verbs.CAMPAIGN_OPENED,
        actor_id=operator.id if operator else None,
        subject=("campaign", campaign.id),
        data={"campaign_id": campaign.id},
        dedupe_key=f"campaign.opened:{campaign.id}",
    )
    if operator is not None:
        await _audit(session, operator, "campaigns.open", campaign)
    return campaign


async def close_campaign(
    session: AsyncSession, campaign: Campaign, operator: Member | None
) -> Campaign:
    _require_state(campaign, CampaignState.open)
    now = clock.now()
    campaign.state = CampaignState.closed.value
    campaign.closed_at = now
    if campaign.ends_at > now:
        campaign.ends_at = now
    campaign.updated_at = now
    await session.flush()
    if operator is not None:
        await _audit(session, operator, "campaigns.close", campaign)
    return campaign


async def due_campaign_ids(session: AsyncSession) -> list[int]:
    now = clock.now()
    rows = await session.execute(
        select(Campaign.id).where(
            ((Campaign.state == CampaignState.scheduled.value) & (Campaign.starts_at <= now))
            | ((Campaign.state == CampaignState.open.value) & (Campaign.ends_at <= now))
        )
    )
    return [int(campaign_id) for campaign_id in rows.scalars()]


async def advance_due(session: AsyncSession) -> int:
    """Open scheduled campaigns whose start has come and close open ones past their end."""
    moved = 0
    for campaign_id in await due_campaign_ids(session):
        campaign = (
            await session.execute(
                select(Campaign).where(Campaign.id == campaign_id).with_for_update()
            )
        ).scalar_one()
        now = clock.now()
        if campaign.state == CampaignState.scheduled and campaign.starts_at <= now:
            await open_campaign(session, campaign, None)
            moved += 1
        if campaign.state == CampaignState.open and campaign.ends_at <= now:
            await close_campaign(session, campaign, None)
            moved += 1
    return moved


def advance_after_commit(session: AsyncSession) -> None:
    """Move due campaigns in a transaction of their own once this (read) request is done."""

    async def run() -> None:
        async with get_database().transaction() as side:
            await advance_due(side)

    after_commit(session, run)


async def draw_lottery(
    session: AsyncSession, operator: Member, campaign: Campaign, seed: str | None
) -> DrawOut:
    """Draw the winners of a closed lottery once, recording the seed that reproduces them."""
    _require_state(campaign, CampaignState.closed)
    if campaign.selection != Selection.lottery:
        raise Conflict(_("Only a lottery campaign has a draw."))
    if campaign.drawn_at is not None:
        raise Conflict(_("The winners were already drawn."))
    seed = seed or lottery.new_seed()
    entry_ids = [
        int(entry_id)
        for entry_id in (
            await session.execute(
                select(CampaignEntry.id).where(CampaignEntry.campaign_id == campaign.id)
            )
        ).scalars()
    ]
    winners = lottery.draw(entry_ids, seed, campaign.capacity or 0)
    winner_set = set(winners)
    if winners:
        await session.execute(
            update(CampaignEntry)
            .where(CampaignEntry.id.in_(winners))
            .values(status=EntryStatus.selected.value)
            .execution_options(synchronize_session=False)
        )
    losers = [entry_id for entry_id in entry_ids if entry_id not in winner_set]
    if losers:
        await session.execute(
            update(CampaignEntry)
            .where(CampaignEntry.id.in_(losers))
            .values(status=EntryStatus.not_selected.value)
            .execution_options(synchronize_session=False)
        )
    campaign.lottery_seed = seed
    campaign.drawn_at = clock.now()
    await session.flush()
    await _audit(session, operator, "campaigns.draw", campaign, seed=seed, winners=winners)
    return DrawOut(seed=seed, winners=winners)


async def announce_results(session: AsyncSession, operator: Member, campaign: Campaign) -> int:
    """Closed -> results announced: winners and the others are told (one activity each)."""
    _require_state(campaign, CampaignState.closed)
    if campaign.selection == Selection.lottery and campaign.drawn_at is None:
        raise Conflict(_("Draw the winners before announcing the results."))
    entries = (
        (
            await session.execute(
                select(CampaignEntry)
                .where(CampaignEntry.campaign_id == campaign.id)
                .order_by(CampaignEntry.id)
            )
        )
        .scalars()
        .all()
    )
    told = 0
    for entry in entries:
        if entry.status == EntryStatus.selected:
            await _record_selected(session, campaign, entry)
            told += 1
        elif entry.status == EntryStatus.not_selected:
            await record(
                session,
                verbs.CAMPAIGN_NOT_SELECTED,
                actor_id=entry.member_id,
                subject=("campaign", campaign.id),
                data={"campaign_id": campaign.id, "entry_id": entry.id},
                dedupe_key=f"campaign.not_selected:{campaign.id}:{entry.member_id}",
            )
            told += 1
    now = clock.now()
    campaign.state = CampaignState.announced.value
    campaign.announced_at = now
    campaign.updated_at = now
    await session.flush()
    await _audit(session, operator, "campaigns.announce", campaign, told=told)
    return told


async def _record_selected(session: AsyncSession, campaign: Campaign, entry: CampaignEntry) -> None:
    await record(
        session,
        verbs.CAMPAIGN_SELECTED,
        actor_id=entry.member_id,
        subject=("campaign", campaign.id),
        data={"campaign_id": campaign.id, "entry_id": entry.id},
        dedupe_key=f"campaign.selected:{campaign.id}:{entry.member_id}",
    )


# --- members: entering ---------------------------------------------------------------------------


def _answer(question: CampaignQuestion, raw: Any) -> str | int | bool | None:
    """Check one answer against its question; raises Invalid naming ``answers.<id>``."""
    field = f"answers.{question.id}"
    empty = raw is None or (isinstance(raw, str) and not raw.strip())
    if empty:
        if question.required:
            raise Invalid(_("Please answer this question."), field=field)
        return None
    if question.kind == QuestionKind.text:
        text = str(raw).strip()
        if len(text) > TEXT_ANSWER_MAX:
            raise Invalid(
                _("Must be at most %(max)s characters.", max=TEXT_ANSWER_MAX), field=field
            )
        return text
    if question.kind == QuestionKind.choice:
        if not isinstance(raw, str) or raw not in question.choices:
            raise Invalid(_("Choose one of the offered values."), field=field)
        return raw
    if question.kind == QuestionKind.yes_no:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("yes", "no", "true", "false"):
            return raw.lower() in ("yes", "true")
        raise Invalid(_("Answer yes or no."), field=field)
    if question.kind == QuestionKind.nps:
        try:
            score = int(raw) if not isinstance(raw, bool) else -1
        except (TypeError, ValueError):
            score = -1
        if not 0 <= score <= 10:
            raise Invalid(_("Choose a score from 0 to 10."), field=field)
        return score
    raise Invalid(_("This value is not valid."), field=field)


async def _questions(session: AsyncSession, campaign_id: int) -> list[CampaignQuestion]:
    rows = await session.execute(
        select(CampaignQuestion)
        .where(CampaignQuestion.campaign_id == campaign_id)
        .order_by(CampaignQuestion.position, CampaignQuestion.id)
    )
    return list(rows.scalars())


async def _checked_entry(
    session: AsyncSession, campaign: Campaign, member: Member, data: EntryIn
) -> tuple[dict[str, Any], str, list[int]]:
    answers: dict[str, Any] = {}
    if campaign.kind in (CampaignKind.application, CampaignKind.survey):
        questions = await _questions(session, campaign.id)
        known = {str(question.id) for question in questions}
        for key in data.answers:
            if key not in known:
                raise Invalid(
                    _("This question is not part of the campaign."), field=f"answers.{key}"
                )
        for question in questions:
            value = _answer(question, data.answers.get(str(question.id)))
            if value is not None:
                answers[str(question.id)] = value
    body = ""
    photos: list[int] = []
    if campaign.kind == CampaignKind.post:
        body = data.body.strip()
        if not body:
            raise Invalid(_("Tell us something in your post."), field="body")
        for upload_id in dict.fromkeys(data.photo_upload_ids):
            upload = await image_upload(session, upload_id, member, field="photo_upload_ids")
            if upload.uploader_member_id != member.id:
                raise Invalid(_("This image does not exist."), field="photo_upload_ids")
            photos.append(upload.id)
    return answers, body, photos


async def enter(
    session: AsyncSession, campaign: Campaign, member: Member, data: EntryIn
) -> CampaignEntry:
    """Enter (apply, post, answer or RSVP). The caller has checked the member may see the
    campaign; here we check they are in its audience and it is open."""
    if campaign.state != CampaignState.open or campaign.ends_at <= clock.now():
        raise Conflict(_("This campaign is not open for entries."))
    if not await policy.in_audience(session, campaign, member):
        raise NotFound()
    answers, body, photos = await _checked_entry(session, campaign, member, data)
    now = clock.now()
    entry_id = (
        await session.execute(
            insert(session, CampaignEntry)
            .values(
                campaign_id=campaign.id,
                member_id=member.id,
                status=EntryStatus.entered.value,
                answers=answers,
                body=body,
                body_html=cook(body).html if body else "",
                created_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=[CampaignEntry.campaign_id, CampaignEntry.member_id]
            )
            .returning(CampaignEntry.id)
        )
    ).scalar_one_or_none()
    if entry_id is None:
        raise Conflict(_("You have already entered this campaign."))
    limited = campaign.selection == Selection.first_come and campaign.capacity is not None
    seat = update(Campaign).where(Campaign.id == campaign.id, Campaign.state == "open")
    if limited:
        seat = seat.where(Campaign.entry_count < Campaign.capacity)
    taken = (
        await session.execute(
            seat.values(entry_count=Campaign.entry_count + 1)
            .returning(Campaign.entry_count)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if taken is None:
        # The whole transaction rolls back with this error, the entry row included.
        raise Conflict(_("Sorry, this campaign is full."))
    campaign.entry_count = int(taken)
    for position, upload_id in enumerate(photos):
        session.add(CampaignEntryPhoto(entry_id=entry_id, upload_id=upload_id, position=position))
    entry = await session.get(CampaignEntry, entry_id)
    assert entry is not None
    await record(
        session,
        verbs.CAMPAIGN_ENTERED,
        actor_id=member.id,
        subject=("campaign", campaign.id),
        data={"campaign_id": campaign.id, "entry_id": entry_id, "kind": campaign.kind},
        dedupe_key=f"campaign.entered:{campaign.id}:{member.id}",
    )
    if limited:
        # First come, first served: a seat is a confirmed place.
        entry.status = EntryStatus.selected.value
        await session.flush()
        await _record_selected(session, campaign, entry)
    await session.flush()
    return entry


async def mark_attendance(
    session: AsyncSession, operator: Member, campaign: Campaign, attended: dict[int, bool]
) -> int:
    """Record who came to an event (by entry id). Returns how many entries changed."""
    if campaign.kind != CampaignKind.event:
        raise Conflict(_("Only events have attendance."))
    if campaign.state == CampaignState.draft or campaign.state == CampaignState.scheduled:
        raise Conflict(_("Attendance is marked once the event has opened."))
    entries = {
        entry.id: entry
        for entry in (
            await session.execute(
                select(CampaignEntry).where(
                    CampaignEntry.campaign_id == campaign.id,
                    CampaignEntry.id.in_(list(attended)),
                )
            )
        ).scalars()
    }
    unknown = [entry_id for entry_id in attended if entry_id not in entries]
    if unknown:
        raise Invalid(_("This entry is not part of the campaign."), field=f"attended.{unknown[0]}")
    changed = 0
    for entry_id, came in sorted(attended.items()):
        entry = entries[entry_id]
        if entry.status == EntryStatus.not_selected and came:
            raise Invalid(
                _("A member who was not selected cannot be marked as attending."),
                field=f"attended.{entry_id}",
            )
        if entry.attended == came:
            continue
        entry.attended = came
        changed += 1
        if came:
            await record(
                session,
                verbs.CAMPAIGN_ATTENDED,
                actor_id=entry.member_id,
                subject=("campaign", campaign.id),
                data={"campaign_id": campaign.id, "entry_id": entry.id},
                dedupe_key=f"campaign.attended:{campaign.id}:{entry.member_id}",
            )
    await session.flush()
    await _audit(session, operator, "campaigns.attendance", campaign, changed=changed)
    return changed


def record_view_after_commit(session: AsyncSession, campaign_id: int, member_id: int) -> None:
    """Count a member's first view of a campaign page, in its own transaction once the page
    (a read) is done."""

    async def run() -> None:
        async with get_database().transaction() as side:
            await side.execute(
                insert(side, CampaignView)
                .values(campaign_id=campaign_id, member_id=member_id, viewed_at=clock.now())
                .on_conflict_do_nothing(
                    index_elements=[CampaignView.campaign_id, CampaignView.member_id]
                )
            )

    after_commit(session, run)
