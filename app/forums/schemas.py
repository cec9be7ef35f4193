"""Shapes of forum forms and API payloads, with the limits every way in shares."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts import policy as accounts_policy
from app.kit.i18n import gettext as _
from app.points.policy import MAX_RANK_THRESHOLD

TITLE_MIN = 3
TITLE_MAX = 200
BODY_MAX = 50_000
TAGS_MAX = 10
TAG_MAX = 30
TAG_RE = re.compile(r"^[\w-]{1,30}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")

Visibility = Literal["everyone", "members", "min_rank", "staff"]
Posting = Literal["members", "min_rank", "staff"]
Kind = Literal["discussion", "question"]


def check_title(value: str) -> str:
    value = accounts_policy.check_single_line(value, max_length=TITLE_MAX)
    if len(value) < TITLE_MIN:
        raise ValueError(_("Must be at least %(min)s characters.", min=TITLE_MIN))
    return value


def check_body(value: str) -> str:
    value = accounts_policy.check_multiline(value, max_length=BODY_MAX)
    if not value:
        raise ValueError(_("Write something first."))
    return value


def check_tags(value: Any) -> list[str]:
    """Tags arrive as a list (API) or as one comma- or space-separated string (forms)."""
    if value is None:
        return []
    raw = re.split(r"[,\s、，]+", value) if isinstance(value, str) else list(value)
    tags: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError(_("Each tag must be text."))
        tag = unicodedata.normalize("NFKC", item).strip().lstrip("#").lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise ValueError(_("A tag may have at most %(max)s characters.", max=TAG_MAX))
        if not TAG_RE.match(tag):
            raise ValueError(_("Tags may contain letters, digits, hyphens and underscores only."))
        if tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise ValueError(_("Use at most %(max)s tags.", max=TAGS_MAX))
    return tags


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category_id: int = Field(ge=1)
    title: str = Field(max_length=2000)
    body: str = Field(max_length=BODY_MAX * 2)
    tags: list[str] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return check_title(value)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return check_body(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return check_tags(value)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    body: str = Field(max_length=BODY_MAX * 2)
    reply_to_post_id: int | None = Field(default=None, ge=1)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return check_body(value)

    @field_validator("reply_to_post_id", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


class PostEditIn(BaseModel):
    """An edit: the body, and for an opening post also the title and tags."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=BODY_MAX * 2)
    title: str | None = Field(default=None, max_length=2000)
    tags: list[str] | None = None

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return check_body(value)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return None if value is None else check_title(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str] | None:
        return None if value is None else check_tags(value)


class TopicModerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pinned: bool | None = None
    locked: bool | None = None
    category_id: int | None = Field(default=None, ge=1)


class RemoveIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(default="", max_length=200)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return accounts_policy.check_multiline(value, max_length=200)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(max_length=60)
    name_en: str = Field(max_length=200)
    name_ja: str = Field(default="", max_length=200)
    description_en: str = Field(default="", max_length=2000)
    description_ja: str = Field(default="", max_length=2000)
    colour: str = "#b3261e"
    position: int = Field(default=0, ge=0, le=10_000)
    kind: Kind = "discussion"
    visibility: Visibility = "everyone"
    posting: Posting = "members"
    min_rank_threshold: int | None = Field(default=None, ge=0, le=MAX_RANK_THRESHOLD)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = value.strip().lower()
        if not SLUG_RE.match(value):
            raise ValueError(_("Use lowercase letters a-z, digits and hyphens."))
        return value

    @field_validator("name_en")
    @classmethod
    def _name_en(cls, value: str) -> str:
        return accounts_policy.check_single_line(value, max_length=80)

    @field_validator("name_ja")
    @classmethod
    def _name_ja(cls, value: str) -> str:
        value = value.strip()
        return accounts_policy.check_single_line(value, max_length=80) if value else ""

    @field_validator("description_en", "description_ja")
    @classmethod
    def _description(cls, value: str) -> str:
        return accounts_policy.check_multiline(value, max_length=1000)

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not COLOUR_RE.match(value.strip()):
            raise ValueError(_("Use a colour like #b3261e."))
        return value.strip().lower()

    @field_validator("min_rank_threshold", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


class VoteIn(BaseModel):
    value: Literal[-1, 0, 1]


# --- output shapes ------------------------------------------------------------------------------


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    handle: str
    display_name: str
    role: str
    avatar_url: str | None = None


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    name_en: str
    name_ja: str
    description_en: str
    description_ja: str
    colour: str
    position: int
    kind: str
    visibility: str
    posting: str
    min_rank_threshold: int | None
    topic_count: int
    post_count: int


class TopicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    kind: str
    category_id: int
    category_slug: str
    author: AuthorOut
    last_poster: AuthorOut | None
    pinned: bool
    locked: bool
    created_at: datetime
    last_posted_at: datetime
    reply_count: int
    like_count: int
    view_count: int
    score: int
    solved: bool
    tags: list[str]
    unread_count: int
    is_new: bool
    url: str


class TopicListOut(BaseModel):
    items: list[TopicOut]
    next_cursor: str | None


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic_id: int
    number: int
    author: AuthorOut
    cooked: str
    source: str | None = Field(description="Markdown source, for the author and staff only")
    created_at: datetime
    edited_at: datetime | None
    revision_count: int
    like_count: int
    liked: bool
    score: int
    my_vote: int
    accepted: bool
    deleted: bool
    reply_to_post_id: int | None
    url: str


class TopicDetailOut(BaseModel):
    topic: TopicOut
    posts: list[PostOut]
    next_cursor: str | None
    first_unread_number: int | None
    can_reply: bool


class PostListOut(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class RevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str | None
    source: str
    editor_id: int | None
    created_at: datetime


class LikeOut(BaseModel):
    post_id: int
    liked: bool
    like_count: int


class VoteOut(BaseModel):
    post_id: int
    my_vote: int
    score: int


class AcceptOut(BaseModel):
    topic_id: int
    accepted_post_id: int | None


class SearchHitOut(BaseModel):
    post_id: int
    topic_id: int
    topic_title: str
    number: int
    category_slug: str
    author: AuthorOut
    created_at: datetime
    solved: bool
    title_html: str = Field(description="Topic title, HTML-escaped, with <mark> around matches")
    snippet_html: str = Field(description="Excerpt, HTML-escaped, with <mark> around matches")
    url: str


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]
    next_cursor: str | None
