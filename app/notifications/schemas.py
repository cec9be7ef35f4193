"""API shapes for notifications and their preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Channel = Literal["app", "email", "off"]


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    url: str
    actor_id: int | None
    actor_count: int
    topic_id: int | None
    created_at: datetime
    updated_at: datetime
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class UnreadOut(BaseModel):
    unread: int


class PreferencesIn(BaseModel):
    """Only the kinds given change. ``digest`` is off, daily or weekly."""

    model_config = ConfigDict(extra="forbid")

    reply: Channel | None = None
    mention: Channel | None = None
    quote: Channel | None = None
    like: Channel | None = None
    answer_accepted: Channel | None = None
    rank_reached: Channel | None = None
    warning: Channel | None = None
    flag_resolved: Channel | None = None
    campaign: Channel | None = None
    survey: Channel | None = None
    reward: Channel | None = None
    digest: Literal["off", "daily", "weekly"] | None = None

    def choices(self) -> dict[str, str]:
        return {key: value for key, value in self.model_dump().items() if value is not None}


class PreferencesOut(BaseModel):
    reply: Channel
    mention: Channel
    quote: Channel
    like: Channel
    answer_accepted: Channel
    rank_reached: Channel
    warning: Channel
    flag_resolved: Channel
    campaign: Channel
    survey: Channel
    reward: Channel
    digest: Literal["off", "daily", "weekly"]
