"""API shapes for tokens and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts import policy

Scope = Literal["read", "write", "admin"]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    scope: Scope = "read"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return policy.check_single_line(value, max_length=80)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


class TokenCreated(TokenOut):
    token: str = Field(description="Shown only now; store it safely.")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(min_length=1, max_length=20)
    secret: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=200)

    @field_validator("url", "secret", "description")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime

    @field_validator("events", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery; shown only now.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: int | None
