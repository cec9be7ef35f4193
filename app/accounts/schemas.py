"""Shapes of account forms and API payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.accounts import policy


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: EmailStr = Field(max_length=254)
    display_name: str = Field(max_length=200)
    password: str = Field(max_length=4096)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return policy.check_single_line(value, max_length=60)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return policy.check_password(
            value,
            email=str(info.data.get("email", "")),
            display_name=str(info.data.get("display_name", "")),
        )


class SignInIn(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=4096)


class ProfileIn(BaseModel):
    """Fields a member may change about themselves. Role and points are not among them."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    handle: str | None = Field(default=None, max_length=40)
    bio: str | None = Field(default=None, max_length=10000)
    locale: Literal["", "en", "ja"] | None = None
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else policy.check_single_line(value, max_length=60)

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        return None if value is None else policy.check_handle(value)

    @field_validator("bio")
    @classmethod
    def _bio(cls, value: str | None) -> str | None:
        return None if value is None else policy.check_multiline(value, max_length=2000)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if not value else policy.check_time_zone(value)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=4096)
    new_password: str = Field(max_length=4096)

    @field_validator("new_password")
    @classmethod
    def _strong(cls, value: str) -> str:
        return policy.check_password(value)


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handle: str
    display_name: str
    role: str
    bio: str
    created_at: datetime


class MeOut(MemberOut):
    email: str
    locale: str | None
    timezone: str | None
