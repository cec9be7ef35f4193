"""Shapes of points forms and API payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts.policy import check_multiline, check_single_line
from app.kit.i18n import gettext as _
from app.points.policy import MAX_MANUAL_POINTS, MAX_RANK_THRESHOLD, MAX_RULE_POINTS

Period = Literal["all", "month", "week"]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_points: int = Field(default=0, ge=0, le=MAX_RULE_POINTS)
    recipient_points: int = Field(default=0, ge=0, le=MAX_RULE_POINTS)
    daily_cap: int | None = Field(default=None, ge=1, le=MAX_MANUAL_POINTS)
    enabled: bool = True


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    verb: str
    label: str
    actor_points: int
    recipient_points: int
    daily_cap: int | None
    enabled: bool
    updated_at: datetime


class RankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_en: str = Field(max_length=200)
    name_ja: str = Field(default="", max_length=200)
    threshold: int = Field(ge=0, le=MAX_RANK_THRESHOLD)
    colour: str = Field(default="#5c5654", pattern=r"^#[0-9a-fA-F]{6}$")
    badge: str = Field(default="", max_length=16)
    benefits_en: str = Field(default="", max_length=2000)
    benefits_ja: str = Field(default="", max_length=2000)

    @field_validator("name_en")
    @classmethod
    def _name_en(cls, value: str) -> str:
        return check_single_line(value, max_length=40)

    @field_validator("name_ja")
    @classmethod
    def _name_ja(cls, value: str) -> str:
        return check_single_line(value, max_length=40) if value.strip() else ""

    @field_validator("badge")
    @classmethod
    def _badge(cls, value: str) -> str:
        return check_single_line(value, max_length=16) if value.strip() else ""

    @field_validator("benefits_en", "benefits_ja")
    @classmethod
    def _benefits(cls, value: str) -> str:
        return check_multiline(value, max_length=2000)

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        return value.lower()


class RankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name_en: str
    name_ja: str
    threshold: int
    colour: str
    badge: str
    benefits_en: str
    benefits_ja: str


class _ManualPoints(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=-MAX_MANUAL_POINTS, le=MAX_MANUAL_POINTS)
    reason: str = Field(max_length=1000)

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError(_("Enter a number of points other than zero."))
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return check_single_line(value, max_length=300)


class ExternalAwardIn(_ManualPoints):
    """An award (positive amount) or deduction (negative) for something outside the
    community, such as an event attended or a purchase."""

    member_id: int = Field(gt=0)


class AdjustmentIn(_ManualPoints):
    member_id: int = Field(gt=0)


class AdjustmentOut(BaseModel):
    ledger_id: int | None
    member_id: int
    amount: int
    lifetime_points: int
    spendable_points: int


class RankBrief(BaseModel):
    id: int
    name: str
    badge: str
    colour: str
    threshold: int


class PointsOut(BaseModel):
    member_id: int
    handle: str
    lifetime_points: int
    spendable_points: int | None = Field(
        description="Only shown to the member themselves and to staff."
    )
    rank: RankBrief | None
    next_rank: RankBrief | None
    points_to_next_rank: int | None


class LedgerEntryOut(BaseModel):
    id: int
    lifetime_delta: int
    spendable_delta: int
    kind: str
    reason: str
    reversal: bool
    subject_type: str | None
    subject_id: int | None
    created_at: datetime


class LedgerPage(BaseModel):
    items: list[LedgerEntryOut]
    next_before: int | None = Field(description="Pass as ?before= for the next (older) page.")


class LeaderboardRow(BaseModel):
    position: int
    member_id: int
    handle: str
    display_name: str
    points: int
    rank: RankBrief | None


class LeaderboardOut(BaseModel):
    period: Period
    start: str | None
    items: list[LeaderboardRow]
    next_after: str | None = Field(description="Pass as ?after= for the next page.")
    me: LeaderboardRow | None = Field(description="The caller's own row, even outside the page.")
