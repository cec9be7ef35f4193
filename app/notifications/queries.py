"""Reading a member's notifications: the list (keyset pages), with the people they name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Member, Notification

PAGE_SIZE = 30


@dataclass(frozen=True)
class Page:
    items: list[tuple[Notification, Member | None]]
    next_cursor: str | None


def encode_cursor(notification: Notification) -> str:
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


async def list_for(
    session: AsyncSession,
    member: Member,
    *,
    cursor: str | None = None,
    unread_only: bool = False,
    limit: int = PAGE_SIZE,
) -> Page:
    """Newest activity first (a grouped row moves up when someone else likes the post).
    Two queries whatever the page size: the rows, then the people they name."""
    query = select(Notification).where(Notification.member_id == member.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    position = decode_cursor(cursor)
    if position is not None:
        moment, ident = position
        query = query.where(
            or_(
                Notification.updated_at < moment,
                and_(Notification.updated_at == moment, Notification.id < ident),
            )
        )
    query = query.order_by(Notification.updated_at.desc(), Notification.id.desc()).limit(limit + 1)
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    actor_ids = {row.actor_id for row in rows if row.actor_id is not None}
    actors: dict[int, Member] = {}
    if actor_ids:
        found = await session.execute(select(Member).where(Member.id.in_(actor_ids)))
        actors = {actor.id: actor for actor in found.scalars()}
    items = [(row, actors.get(row.actor_id) if row.actor_id else None) for row in rows]
    return Page(items=items, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


async def unread_count(session: AsyncSession, member_id: int) -> int:
    value = await session.scalar(select(Member.unread_notifications).where(Member.id == member_id))
    return int(value or 0)
