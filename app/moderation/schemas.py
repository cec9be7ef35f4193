"""Request and response shapes for moderation (forms and /api/v1 share the inputs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts import policy as accounts_policy
from app.moderation.limits import ModerationSettings

REASON_MAX = 500
MAX_HOURS = 24 * 365 * 10


def _reason(value: str) -> str:
    value = accounts_policy.check_multiline(value, max_length=REASON_MAX)
    if not value:
        raise ValueError("blank")
    return value


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: Literal["spam", "inappropriate", "off_topic", "other"]
    message: str = Field(default="", max_length=REASON_MAX)

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        return accounts_policy.check_multiline(value, max_length=REASON_MAX)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(default="", max_length=REASON_MAX)

    @field_validator("reason")
    @classmethod
    def _clean(cls, value: str) -> str:
        return accounts_policy.check_multiline(value, max_length=REASON_MAX)


class PostActionIn(ReasonIn):
    action: Literal["keep", "hide", "delete", "edit", "restore", "approve", "reject"]
    body: str | None = None
    title: str | None = None


class TopicActionIn(ReasonIn):
    action: Literal["lock", "unlock", "pin", "unpin", "close", "reopen", "move", "split"]
    category_id: int | None = Field(default=None, ge=1)
    post_ids: list[int] = Field(default_factory=list, max_length=500)
    title: str | None = Field(default=None, max_length=2000)

    @field_validator("category_id", "title", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("post_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from app.forums.schemas import check_title

        return check_title(value)


class MemberActionIn(ReasonIn):
    hours: int = Field(default=24, ge=1, le=MAX_HOURS)


class RoleIn(ReasonIn):
    role: Literal["member", "moderator", "operator", "admin"]


class WordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(min_length=1, max_length=100)
    action: Literal["block", "hold", "replace"]
    replacement: str = Field(default="", max_length=100)

    @field_validator("pattern", "replacement")
    @classmethod
    def _line(cls, value: str) -> str:
        return value.strip()


# --- responses --------------------------------------------------------------------------------


class MemberRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handle: str
    display_name: str


class FlagOut(BaseModel):
    id: int
    post_id: int
    reason: str
    message: str
    weight: float
    status: str
    created_at: datetime
    post_hidden: bool


class QueueFlagOut(BaseModel):
    id: int
    reason: str
    message: str
    weight: float
    created_at: datetime
    flagger: MemberRef


class HistoryOut(BaseModel):
    posts: int
    hidden_or_deleted: int
    accepted_flags_against: int
    moderation_entries: int


class ReviewItemOut(BaseModel):
    post_id: int
    topic_id: int
    topic_title: str
    number: int
    source: str
    cooked: str
    created_at: datetime
    hidden: bool
    hidden_reason: str
    deleted: bool
    awaiting_approval: bool
    score: float
    author: MemberRef
    flags: list[QueueFlagOut]
    history: HistoryOut


class QueueOut(BaseModel):
    items: list[ReviewItemOut]
    next_after: int | None


class PostStateOut(BaseModel):
    post_id: int
    topic_id: int
    hidden: bool
    deleted: bool
    awaiting_approval: bool


class TopicStateOut(BaseModel):
    topic_id: int
    category_id: int
    locked: bool
    pinned: bool
    closed: bool
    closed_reason: str
    new_topic_id: int | None = None


class MemberStateOut(BaseModel):
    id: int
    handle: str
    role: str
    silenced_until: datetime | None
    silence_reason: str
    suspended_until: datetime | None
    suspend_reason: str
    flags_accepted: int
    flags_rejected: int


class AuditEntryOut(BaseModel):
    id: int
    action: str
    label: str
    actor: MemberRef | None
    target_type: str | None
    target_id: int | None
    concerns_member_id: int | None
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    created_at: datetime


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None


class OutcomeOut(BaseModel):
    id: int
    action: str
    label: str
    target_type: str | None
    target_id: int | None
    reason: str
    created_at: datetime


class MyFlagOut(BaseModel):
    id: int
    post_id: int
    topic_id: int
    topic_title: str
    reason: str
    status: str
    created_at: datetime


class MyModerationOut(BaseModel):
    silenced_until: datetime | None
    suspended_until: datetime | None
    outcomes: list[OutcomeOut]
    next_before: int | None
    flags: list[MyFlagOut]


class WordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    pattern: str
    action: str
    replacement: str
    created_at: datetime


class SettingsOut(ModerationSettings):
    pass
