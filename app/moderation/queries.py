"""Reads for moderation: the objects an action works on, the review queue, the audit log,
and what a member may read about moderation that concerned them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import NotFound
from app.models import AuditLog, Category, Flag, Member, Post, Topic

QUEUE_PAGE = 20
AUDIT_PAGE = 50


@dataclass
class PostTarget:
    post: Post
    topic: Topic
    category: Category


async def post_target(session: AsyncSession, post_id: int) -> PostTarget:
    """A post with its topic and category, for staff (who see hidden and removed ones)."""
    row = (
        await session.execute(
            select(Post, Topic, Category)
            .join(Topic, Topic.id == Post.topic_id)
            .join(Category, Category.id == Topic.category_id)
            .where(Post.id == post_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    return PostTarget(*row)


async def topic_target(session: AsyncSession, topic_id: int) -> tuple[Topic, Category]:
    row = (
        await session.execute(
            select(Topic, Category)
            .join(Category, Category.id == Topic.category_id)
            .where(Topic.id == topic_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    return row[0], row[1]


async def first_post_id(session: AsyncSession, topic_id: int) -> int:
    post_id = await session.scalar(
        select(Post.id).where(Post.topic_id == topic_id, Post.number == 1)
    )
    if post_id is None:
        raise NotFound()
    return int(post_id)


async def member_by_id(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or member.email_verified_at is None:
        raise NotFound()
    return member


# --- the review queue ---------------------------------------------------------------------


@dataclass
class FlagView:
    id: int
    reason: str
    message: str
    weight: float
    created_at: datetime
    flagger: Member


@dataclass
class AuthorHistory:
    posts: int = 0
    hidden_or_deleted: int = 0
    accepted_flags_against: int = 0
    moderation_entries: int = 0


@dataclass
class ReviewItem:
    post: Post
    topic: Topic
    category: Category
    author: Member
    flags: list[FlagView] = field(default_factory=list)
    history: AuthorHistory = field(default_factory=AuthorHistory)

    @property
    def score(self) -> float:
        return round(sum(flag.weight for flag in self.flags), 2)

    @property
    def awaiting_approval(self) -> bool:
        return self.post.needs_approval


async def review_queue(
    session: AsyncSession, *, after: int | None = None, limit: int = QUEUE_PAGE
) -> tuple[list[ReviewItem], int | None]:
    """Posts waiting for a moderator (pending flags, or held for approval), oldest first,
    with their flags and their author's history. A fixed number of queries per page."""
    pending = union(
        select(Flag.post_id.label("post_id")).where(Flag.status == "pending"),
        select(Post.id.label("post_id")).where(Post.needs_approval.is_(True)),
    ).subquery()
    ids_query: Select[Any] = select(pending.c.post_id).order_by(pending.c.post_id).limit(limit + 1)
    if after is not None:
        ids_query = ids_query.where(pending.c.post_id > after)
    ids = [int(value) for value in (await session.execute(ids_query)).scalars()]
    next_after = ids[limit - 1] if len(ids) > limit else None
    ids = ids[:limit]
    if not ids:
        return [], None
    rows = await session.execute(
        select(Post, Topic, Category, Member)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .join(Member, Member.id == Post.author_id)
        .where(Post.id.in_(ids))
        .order_by(Post.id)
    )
    items = [ReviewItem(post, topic, category, author) for post, topic, category, author in rows]
    by_post = {item.post.id: item for item in items}
    flag_rows = await session.execute(
        select(Flag, Member)
        .join(Member, Member.id == Flag.flagger_id)
        .where(Flag.post_id.in_(ids), Flag.status == "pending")
        .order_by(Flag.id)
    )
    for flag, flagger in flag_rows:
        by_post[flag.post_id].flags.append(
            FlagView(flag.id, flag.reason, flag.message, flag.weight, flag.created_at, flagger)
        )
    histories = await author_histories(session, {item.author.id for item in items})
    for item in items:
        item.history = histories.get(item.author.id, AuthorHistory())
    return items, next_after


async def author_histories(session: AsyncSession, author_ids: set[int]) -> dict[int, AuthorHistory]:
    if not author_ids:
        return {}
    ids = sorted(author_ids)
    histories: dict[int, AuthorHistory] = defaultdict(AuthorHistory)
    post_rows = await session.execute(
        select(
            Post.author_id,
            func.count(),
            func.count().filter(or_(Post.hidden_at.is_not(None), Post.deleted_at.is_not(None))),
        )
        .where(Post.author_id.in_(ids))
        .group_by(Post.author_id)
    )
    for author_id, total, removed in post_rows:
        histories[author_id].posts = int(total)
        histories[author_id].hidden_or_deleted = int(removed)
    flag_rows = await session.execute(
        select(Post.author_id, func.count())
        .join(Flag, Flag.post_id == Post.id)
        .where(Post.author_id.in_(ids), Flag.status == "accepted")
        .group_by(Post.author_id)
    )
    for author_id, count in flag_rows:
        histories[author_id].accepted_flags_against = int(count)
    audit_rows = await session.execute(
        select(AuditLog.subject_member_id, func.count())
        .where(AuditLog.subject_member_id.in_(ids))
        .group_by(AuditLog.subject_member_id)
    )
    for member_id, count in audit_rows:
        if member_id is not None:
            histories[int(member_id)].moderation_entries = int(count)
    return dict(histories)


# --- the audit log ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: int | None = None


@dataclass
class AuditRow:
    entry: AuditLog
    actor: Member | None


def _audit_query(filters: AuditFilter) -> Select[AuditLog, Member]:
    query = select(AuditLog, Member).outerjoin(Member, Member.id == AuditLog.actor_id)
    if filters.actor_id is not None:
        query = query.where(AuditLog.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.target_type:
        query = query.where(AuditLog.target_type == filters.target_type)
        if filters.target_id is not None:
            query = query.where(AuditLog.target_id == filters.target_id)
    return query


async def audit_page(
    session: AsyncSession,
    filters: AuditFilter,
    *,
    before: int | None = None,
    limit: int = AUDIT_PAGE,
) -> tuple[list[AuditRow], int | None]:
    """Newest first, keyset on id (each filter has an index ending in id)."""
    query = _audit_query(filters).order_by(AuditLog.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditLog.id < before)
    rows = [AuditRow(entry, actor) for entry, actor in await session.execute(query)]
    next_before = rows[limit - 1].entry.id if len(rows) > limit else None
    return rows[:limit], next_before


async def audit_batches(session: AsyncSession, filters: AuditFilter, *, batch: int = 500) -> Any:
    """Every matching entry, newest first, in keyset batches (the CSV export)."""
    before: int | None = None
    while True:
        rows, before = await audit_page(session, filters, before=before, limit=batch)
        for row in rows:
            yield row
        if before is None:
            return


# --- what concerns a member ---------------------------------------------------------------


@dataclass
class MyFlag:
    flag: Flag
    topic_id: int
    topic_title: str


async def outcomes_for(
    session: AsyncSession, member: Member, *, before: int | None = None, limit: int = AUDIT_PAGE
) -> tuple[list[AuditLog], int | None]:
    """Moderation entries about the member or their posts (without the moderator's name)."""
    query = (
        select(AuditLog)
        .where(AuditLog.subject_member_id == member.id)
        .order_by(AuditLog.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(AuditLog.id < before)
    entries = list((await session.execute(query)).scalars())
    next_before = entries[limit - 1].id if len(entries) > limit else None
    return entries[:limit], next_before


async def my_flags(session: AsyncSession, member: Member, *, limit: int = 50) -> list[MyFlag]:
    rows = await session.execute(
        select(Flag, Topic.id, Topic.title)
        .join(Post, Post.id == Flag.post_id)
        .join(Topic, and_(Topic.id == Post.topic_id))
        .where(Flag.flagger_id == member.id)
        .order_by(Flag.id.desc())
        .limit(limit)
    )
    return [MyFlag(flag, topic_id, title) for flag, topic_id, title in rows]
