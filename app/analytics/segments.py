"""Member filters and saved segments: one filter shape for the member table, the CSV export,
survey audiences and campaign audiences (:func:`segment_member_ids`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import ambassadors, policy
from app.kit.errors import Conflict, Invalid, NotFound
from app.kit.forms import validate
from app.kit.i18n import gettext as _
from app.models import AnalyticsMemberScore, AnalyticsSegment, Member, MemberExternal

Score = AnalyticsMemberScore

AmbassadorFilter = Literal[
    "", "confirmed", "flagged", "dismissed", "ambassador", "candidate", "none"
]
AdvocateFilter = Literal["", "educator", "validator", "status_seeker", "collaborator", "unknown"]
RfmFilter = Literal["", "champions", "loyal", "new", "at_risk", "dormant", "occasional"]
NpsFilter = Literal["", "promoter", "passive", "detractor", "none"]


class MemberFilter(BaseModel):
    """What a saved segment stores. Empty values mean "any"."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(default="", max_length=100)
    rank_id: int | None = None
    ambassador: AmbassadorFilter = ""
    advocate_type: AdvocateFilter = ""
    rfm_group: RfmFilter = ""
    nps: NpsFilter = ""
    max_decile: int | None = Field(default=None, ge=1, le=10)
    active_within_days: int | None = Field(default=None, ge=0, le=3650)
    min_reach: int | None = Field(default=None, ge=0)
    min_points: int | None = Field(default=None, ge=0)
    min_purchases: int | None = Field(default=None, ge=0)

    def saved(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if value not in ("", None)}


FILTER_FIELDS = tuple(MemberFilter.model_fields)


def parse_filter(values: Mapping[str, Any]) -> MemberFilter:
    """Read filters from a query string or form; a bad value is a 422 naming the field."""
    cleaned = {
        key: value.strip() if isinstance(value, str) else value
        for key, value in values.items()
        if key in FILTER_FIELDS and value not in ("", None)
    }
    data, errors = validate(MemberFilter, cleaned)
    if data is None:
        field, message = next(iter(errors.items()))
        raise Invalid(message, field=field)
    return data


def base_query() -> Select[Member, AnalyticsMemberScore, MemberExternal]:
    return (
        select(Member, Score, MemberExternal)
        .outerjoin(Score, Score.member_id == Member.id)
        .outerjoin(MemberExternal, MemberExternal.member_id == Member.id)
        .where(Member.role.in_(policy.POPULATION_ROLES))
    )


def conditions(data: MemberFilter, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if data.q:
        pattern = f"%{data.q.lower()}%"
        where.append(
            or_(
                func.lower(Member.display_name).like(pattern),
                func.lower(Member.email).like(pattern),
                func.lower(Member.handle).like(pattern),
            )
        )
    if data.rank_id is not None:
        where.append(Member.rank_id == data.rank_id)
    if data.ambassador in ("confirmed", "flagged", "dismissed"):
        where.append(Score.ambassador_status == data.ambassador)
    elif data.ambassador in (ambassadors.AMBASSADOR, ambassadors.CANDIDATE):
        where.append(Score.detection == data.ambassador)
    elif data.ambassador == "none":
        where.append(
            or_(
                Score.member_id.is_(None),
                and_(Score.ambassador_status == "", Score.detection == ""),
            )
        )
    if data.advocate_type == "unknown":
        where.append(or_(Score.member_id.is_(None), Score.advocate_type == ""))
    elif data.advocate_type:
        where.append(Score.advocate_type == data.advocate_type)
    if data.rfm_group:
        where.append(Score.rfm_group == data.rfm_group)
    if data.nps == "promoter":
        where.append(Score.latest_nps >= 9)
    elif data.nps == "passive":
        where.append(Score.latest_nps.between(7, 8))
    elif data.nps == "detractor":
        where.append(Score.latest_nps <= 6)
    elif data.nps == "none":
        where.append(Score.latest_nps.is_(None))
    if data.max_decile is not None:
        where.append(Score.decile <= data.max_decile)
    if data.active_within_days is not None:
        where.append(Score.last_active_day >= today - timedelta(days=data.active_within_days))
    if data.min_reach is not None:
        where.append(Score.reach >= data.min_reach)
    if data.min_points is not None:
        where.append(Member.lifetime_points >= data.min_points)
    if data.min_purchases is not None:
        where.append(MemberExternal.purchase_count >= data.min_purchases)
    return where


async def get_segment(session: AsyncSession, segment_id: int) -> AnalyticsSegment:
    segment = await session.get(AnalyticsSegment, segment_id)
    if segment is None:
        raise NotFound()
    return segment


def segment_filter(segment: AnalyticsSegment) -> MemberFilter:
    return MemberFilter.model_validate(segment.filters or {})


async def count_members(session: AsyncSession, data: MemberFilter, today: date) -> int:
    query = base_query().where(*conditions(data, today))
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def segment_member_ids(
    session: AsyncSession, segment_id: int, today: date | None = None
) -> list[int]:
    """Ids of the members a saved segment holds right now (survey and campaign audiences)."""
    from app.kit import clock

    segment = await get_segment(session, segment_id)
    query = (
        select(Member.id)
        .outerjoin(Score, Score.member_id == Member.id)
        .outerjoin(MemberExternal, MemberExternal.member_id == Member.id)
        .where(Member.role.in_(policy.POPULATION_ROLES))
        .where(*conditions(segment_filter(segment), today or clock.community_day()))
    )
    return list((await session.execute(query)).scalars())


async def list_segments(session: AsyncSession) -> list[AnalyticsSegment]:
    return list(
        (await session.execute(select(AnalyticsSegment).order_by(AnalyticsSegment.name))).scalars()
    )


async def save_segment(
    session: AsyncSession, operator: Member, name: str, data: MemberFilter
) -> AnalyticsSegment:
    name = " ".join(name.split())
    if not name:
        raise Invalid(_("This field is required."), field="name")
    if len(name) > 80:
        raise Invalid(_("Must be at most %(max)s characters.", max=80), field="name")
    clash = await session.scalar(
        select(func.count()).select_from(AnalyticsSegment).where(AnalyticsSegment.name == name)
    )
    if clash:
        raise Conflict(_("A segment with this name already exists."), field="name")
    segment = AnalyticsSegment(name=name, filters=data.saved(), created_by_id=operator.id)
    session.add(segment)
    await session.flush()
    return segment


async def delete_segment(session: AsyncSession, segment_id: int) -> None:
    segment = await get_segment(session, segment_id)
    await session.delete(segment)
    await session.flush()
