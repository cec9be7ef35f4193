"""Pydantic shapes for campaigns, rewards and reviews: what forms and the API accept and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.kit.i18n import get_timezone
from app.kit.i18n import gettext as _
from app.models import (
    Campaign,
    CampaignEntry,
    CampaignQuestion,
    Product,
    Redemption,
    Reward,
)

KindName = Literal["application", "post", "survey", "event"]
AudienceName = Literal["everyone", "rank", "segment", "ambassadors", "candidates", "invited"]
SelectionName = Literal["first_come", "lottery"]
QuestionKindName = Literal["text", "choice", "yes_no", "nps"]
MAX_QUESTIONS = 30
MAX_PHOTOS = 6
Text140 = Annotated[str, Field(max_length=140)]


def _aware(value: datetime) -> datetime:
    """Form inputs (datetime-local) carry no zone: read them in the viewer's time zone."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(get_timezone()))
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuestionIn(Strict):
    kind: QuestionKindName = "text"
    prompt_en: str = Field(min_length=1, max_length=300)
    prompt_ja: str = Field(default="", max_length=300)
    choices: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    required: bool = True

    @model_validator(mode="after")
    def _choices_fit_kind(self) -> QuestionIn:
        if self.kind == "choice" and len(set(self.choices)) < 2:
            raise ValueError(_("A choice question needs at least two different choices."))
        if self.kind != "choice":
            self.choices = []
        return self


class CampaignIn(Strict):
    title_en: str = Field(min_length=1, max_length=140)
    title_ja: Text140 = ""
    description_en: str = Field(default="", max_length=20000)
    description_ja: str = Field(default="", max_length=20000)
    kind: KindName = "application"
    starts_at: datetime
    ends_at: datetime
    audience: AudienceName = "everyone"
    audience_rank_id: int | None = None
    audience_segment_id: int | None = None
    teaser: bool = False
    selection: SelectionName = "first_come"
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    fatigue_limit: int | None = Field(default=None, ge=0, le=1000)
    fatigue_days: int = Field(default=30, ge=1, le=365)
    cover_upload_id: int | None = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=MAX_QUESTIONS)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _zone(cls, value: datetime) -> datetime:
        return _aware(value)

    @model_validator(mode="after")
    def _consistent(self) -> CampaignIn:
        if self.ends_at <= self.starts_at:
            raise ValueError(_("The end must be after the start."))
        if self.selection == "lottery" and self.capacity is None:
            raise ValueError(_("A lottery needs the number of winners (capacity)."))
        if self.audience == "rank" and self.audience_rank_id is None:
            raise ValueError(_("Choose the minimum rank."))
        if self.audience == "segment" and self.audience_segment_id is None:
            raise ValueError(_("Choose the saved segment."))
        if self.kind in ("post", "event") and self.questions:
            raise ValueError(_("Only applications and surveys have questions."))
        if sum(1 for question in self.questions if question.kind == "nps") > 1:
            raise ValueError(_("A campaign has at most one NPS question."))
        return self


class EntryIn(Strict):
    answers: dict[str, str | int | bool | None] = Field(default_factory=dict, max_length=60)
    body: str = Field(default="", max_length=5000)
    photo_upload_ids: list[int] = Field(default_factory=list, max_length=MAX_PHOTOS)


class InvitesIn(Strict):
    handles: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(max_length=1000)


class AttendanceIn(Strict):
    attended: dict[int, bool] = Field(max_length=10000)


class DrawIn(Strict):
    seed: str | None = Field(default=None, min_length=1, max_length=64)


class RewardIn(Strict):
    name_en: str = Field(min_length=1, max_length=120)
    name_ja: str = Field(default="", max_length=120)
    description_en: str = Field(default="", max_length=5000)
    description_ja: str = Field(default="", max_length=5000)
    cost: int = Field(ge=1, le=10_000_000)
    stock: int = Field(ge=0, le=1_000_000)
    min_rank_id: int | None = None
    image_upload_id: int | None = None
    active: bool = True


class RedemptionDecisionIn(Strict):
    note: str = Field(default="", max_length=300)


class ProductIn(Strict):
    name_en: str = Field(min_length=1, max_length=120)
    name_ja: str = Field(default="", max_length=120)
    description_en: str = Field(default="", max_length=5000)
    description_ja: str = Field(default="", max_length=5000)
    image_upload_id: int | None = None
    active: bool = True


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=5)
    body: str = Field(default="", max_length=5000)


# --- out -----------------------------------------------------------------------------------------


class QuestionOut(BaseModel):
    id: int
    kind: str
    prompt: str
    choices: list[str]
    required: bool

    @classmethod
    def of(cls, question: CampaignQuestion) -> QuestionOut:
        return cls(
            id=question.id,
            kind=question.kind,
            prompt=question.prompt,
            choices=list(question.choices),
            required=question.required,
        )


class CampaignOut(BaseModel):
    id: int
    title: str
    kind: str
    state: str
    starts_at: datetime
    ends_at: datetime
    locked: bool = Field(description="A teaser: the viewer is not in the audience")
    audience: str
    selection: str
    capacity: int | None
    entries: int
    description_html: str | None
    cover_url: str | None
    questions: list[QuestionOut] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        campaign: Campaign,
        *,
        locked: bool,
        cover_url: str | None = None,
        questions: list[CampaignQuestion] | None = None,
    ) -> CampaignOut:
        return cls(
            id=campaign.id,
            title=campaign.title,
            kind=campaign.kind,
            state=campaign.state,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            locked=locked,
            audience=campaign.audience,
            selection=campaign.selection,
            capacity=campaign.capacity,
            entries=campaign.entry_count,
            description_html=None if locked else campaign.description_html,
            cover_url=cover_url,
            questions=[] if locked else [QuestionOut.of(q) for q in questions or []],
        )


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: int | None


class EntryOut(BaseModel):
    id: int
    campaign_id: int
    member_id: int
    status: str
    answers: dict[str, str | int | bool | None]
    body: str
    photo_urls: list[str]
    attended: bool | None
    created_at: datetime

    @classmethod
    def of(cls, entry: CampaignEntry, photo_urls: list[str] | None = None) -> EntryOut:
        return cls(
            id=entry.id,
            campaign_id=entry.campaign_id,
            member_id=entry.member_id,
            status=entry.status,
            answers=dict(entry.answers),
            body=entry.body,
            photo_urls=photo_urls or [],
            attended=entry.attended,
            created_at=entry.created_at,
        )


class DrawOut(BaseModel):
    seed: str
    winners: list[int] = Field(description="Entry ids of the winners")


class GroupRate(BaseModel):
    group: str
    audience: int
    entries: int
    rate: float | None


class ReportOut(BaseModel):
    audience: int
    views: int
    entries: int
    entry_rate: float | None
    winners: int
    attended: int
    groups: list[GroupRate]
    activity_before: int
    activity_after: int
    participants: int
    candidates_became_ambassadors: int | None
    nps: float | None
    nps_responses: int


class RewardOut(BaseModel):
    id: int
    name: str
    description: str
    cost: int
    stock: int
    min_rank_id: int | None
    image_url: str | None
    active: bool

    @classmethod
    def of(cls, reward: Reward, image_url: str | None = None) -> RewardOut:
        return cls(
            id=reward.id,
            name=reward.name,
            description=reward.description,
            cost=reward.cost,
            stock=reward.stock,
            min_rank_id=reward.min_rank_id,
            image_url=image_url,
            active=reward.active,
        )


class RedemptionOut(BaseModel):
    id: int
    reward_id: int
    member_id: int
    cost: int
    status: str
    note: str
    created_at: datetime
    decided_at: datetime | None
    spendable_points: int | None = None

    @classmethod
    def of(cls, redemption: Redemption, spendable: int | None = None) -> RedemptionOut:
        return cls(
            id=redemption.id,
            reward_id=redemption.reward_id,
            member_id=redemption.member_id,
            cost=redemption.cost,
            status=redemption.status,
            note=redemption.note,
            created_at=redemption.created_at,
            decided_at=redemption.decided_at,
            spendable_points=spendable,
        )


class ProductOut(BaseModel):
    id: int
    name: str
    description: str
    image_url: str | None
    reviews: int
    average: float | None
    distribution: dict[int, int]

    @classmethod
    def of(
        cls, product: Product, summary: RatingSummary, image_url: str | None = None
    ) -> ProductOut:
        return cls(
            id=product.id,
            name=product.name,
            description=product.description,
            image_url=image_url,
            reviews=summary.count,
            average=summary.average,
            distribution=summary.distribution,
        )


class RatingSummary(BaseModel):
    count: int = 0
    average: float | None = None
    distribution: dict[int, int] = Field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))


class ReviewOut(BaseModel):
    id: int
    product_id: int
    member_id: int
    rating: int
    body: str
    created_at: datetime
    updated_at: datetime
