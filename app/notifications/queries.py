"""Reading a member's notifications: the list (keyset pages), with the people they name."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.forums.queries import AuthorView, author_columns, join_avatar
from app.kit.sql import in_ids, read_prebuilt
from app.models import Member, Notification, Upload

PAGE_SIZE = 30
_ACTOR_AVATAR = aliased(Upload, name="actor_avatar")


@dataclass(frozen=True, slots=True)
class Entry:
    """A notification as its list shows it: the columns of :func:`_list_query`, in order."""

    id: int
    kind: str
    actor_id: int | None
    actor_count: int
    subject_type: str | None
    subject_id: int | None
    topic_id: int | None
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class Page:
    items: list[tuple[Entry, AuthorView | None]]
    next_cursor: str | None


def encode_cursor(notification: Entry | Notification) -> str:
    micros = int(notification.updated_at.timestamp() * 1_000_000)
    return f"{micros}-{notification.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    micros, _sep, ident = cursor.partition("-")
    if not (micros.isdigit() and ident.isdigit()):
        return None
    moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
    return moment, int(ident)


def _list_query(unread_only: bool, after: bool, limit: int) -> Any:
    table = cast(Table, Notification.__table__)
    c = table.c
    query = select(*(c[field.name] for field in fields(Entry))).where(
        c.member_id == bindparam("p_member", type_=Integer)
    )
    if unread_only:
        query = query.where(c.read_at.is_(None))
    if after:
        moment = bindparam("p_moment", type_=c.updated_at.type)
        ident = bindparam("p_id", type_=Integer)
        query = query.where(or_(c.updated_at < moment, and_(c.updated_at == moment, c.id < ident)))
    return query.order_by(c.updated_at.desc(), c.id.desc()).limit(limit)


def _actors_query(_insert: Any) -> Any:
    query = select(*author_columns(Member, _ACTOR_AVATAR, "actor"))
    return join_avatar(query, Member, _ACTOR_AVATAR).where(in_ids(Member.id, "p_ids"))


async def list_for(
    session: AsyncSession,
    member: Member,
    *,
    cursor: str | None = None,
    unread_only: bool = False,
    limit: int = PAGE_SIZE,
) -> Page:
    """Newest activity first (a grouped row moves up when someone else likes the post).
    Two queries whatever the page size, each for the columns the list shows: the rows, then
    the people they name."""
    params: dict[str, Any] = {"p_member": member.id}
    position = decode_cursor(cursor)
    if position is not None:
        params["p_moment"], params["p_id"] = position
    shape = (unread_only, position is not None, limit + 1)
    rows = [
        Entry(*row)
        for row in await read_prebuilt(
            session, ("notifications.list", *shape), lambda _insert: _list_query(*shape), params
        )
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    actor_ids = sorted({row.actor_id for row in rows if row.actor_id is not None})
    actors: dict[int, AuthorView] = {}
    if actor_ids:
        found = await read_prebuilt(
            session, "notifications.actors", _actors_query, {"p_ids": actor_ids}
        )
        actors = {int(row[0]): AuthorView(*row) for row in found}
    items = [(row, actors.get(row.actor_id) if row.actor_id else None) for row in rows]
    return Page(items=items, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


async def unread_count(session: AsyncSession, member_id: int) -> int:
    value = await session.scalar(select(Member.unread_notifications).where(Member.id == member_id))
    return int(value or 0)
