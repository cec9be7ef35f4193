"""``record()``: the spine every other feature hangs on.

An activity is written in the caller's transaction, so it exists exactly when the action does.
Listeners (points, rollups, live pushes) run inside that same transaction; anything they send
outside the database is queued with :func:`app.db.after_commit`.

Lock order (PostgreSQL): before its listeners run, an activity locks the rows of the members
it concerns, in id order, with ``FOR NO KEY UPDATE`` (which does not wait for the key-share
locks that inserting a row referencing a member takes). Listeners lock and update those
members' rows (totals, caps, counters), so without it a like each way between two members
would take the two rows in opposite orders and deadlock. SQLite needs none of this: its
writers take turns.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.kit.sql import dialect_name, run_prebuilt
from app.models import Activity, Member

Listener = Callable[[AsyncSession, Activity], Awaitable[None]]
_listeners: list[Listener] = []


async def lock_members(session: AsyncSession, *member_ids: int | None) -> None:
    """Take the concerned members' row locks in id order (see the module's lock order). An
    action that records several activities concerning different members calls this first
    with all of them, so it never holds one member's row while waiting for another's."""
    ids = sorted({member_id for member_id in member_ids if member_id is not None})
    if len(ids) > 1 and dialect_name(session) == "postgresql":
        await session.execute(
            select(Member.id)
            .where(Member.id.in_(ids))
            .order_by(Member.id)
            .with_for_update(key_share=True)
        )


_ACTIVITY_COLUMNS = (
    "verb",
    "actor_id",
    "recipient_id",
    "subject_type",
    "subject_id",
    "occurred_at",
    "day",
    "data",
    "dedupe_key",
)


def _activity_insert(insert_: Any, deduped: bool) -> Any:
    stmt = insert_(Activity.__table__).values(
        {name: bindparam(f"p_{name}") for name in _ACTIVITY_COLUMNS}
    )
    if deduped:
        stmt = stmt.on_conflict_do_nothing(index_elements=[Activity.dedupe_key])
    return stmt.returning(Activity.id)


_INSERTS: dict[bool, Callable[[Any], Any]] = {
    deduped: functools.partial(_activity_insert, deduped=deduped) for deduped in (False, True)
}


def subscribe(listener: Listener) -> Listener:
    """Register a function called for every recorded activity (same transaction)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


async def record(
    session: AsyncSession,
    verb: str,
    *,
    actor_id: int | None,
    recipient_id: int | None = None,
    subject: tuple[str, int] | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    occurred_at: datetime | None = None,
) -> Activity | None:
    """Record an action. With a ``dedupe_key`` the same action is recorded at most once,
    even under concurrent requests; a repeat returns None and notifies nobody."""
    when = occurred_at or clock.now()
    values: dict[str, Any] = {
        "verb": verb,
        "actor_id": actor_id,
        "recipient_id": recipient_id,
        "subject_type": subject[0] if subject else None,
        "subject_id": subject[1] if subject else None,
        "occurred_at": when,
        "day": clock.community_day(when),
        "data": data or {},
        "dedupe_key": dedupe_key,
    }
    # A Core insert rather than session.add() + flush(): the activity is written once and
    # never changed, so the unit of work has nothing to track (a flush per action cost more
    # than the insert itself). Built once, executed with the values as parameters (straight
    # on the driver); pending ORM changes are flushed first, since listeners query
    # what the action changed.
    deduped = dedupe_key is not None
    new_id = (
        await run_prebuilt(
            session,
            ("activity.insert", deduped),
            _INSERTS[deduped],
            {f"p_{name}": value for name, value in values.items()},
        )
    ).scalar_one_or_none()
    if new_id is None:
        return None
    await lock_members(session, actor_id, recipient_id)
    activity = Activity(id=new_id, **values)
    for listener in _listeners:
        await listener(session, activity)
    return activity
