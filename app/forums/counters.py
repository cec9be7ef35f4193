"""A category's topic and post counts, moved at commit.

Every new topic and reply moves its category's counts, and so do removals, restores, moves and
splits. On PostgreSQL an updated row stays locked until commit, and a reply moved its
category's counts before recording itself (points, rollups, notifications, the mail): the
replies of one category waited for one another through all of that. With 16 replies at a time
on the 10% benchmark data (1 worker), 5.6 of about 8 busy connections were on average waiting
for a category's row (bench/ANALYSIS.md, session 34).

The counts are pure increments that nothing reads back within the transaction, so they are
added up in the session and written just before the commit, after every other change is
flushed, as the community tally is (app.analytics.community): category rows in id order, held
only for the commit. Every change of a category's counts goes through :func:`count`, so every
transaction takes category rows last and in one order, and none waits for a member's row
while holding a category's.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.kit.sql import execute_prebuilt_sync, prebuilt, take_transaction_state, transaction_state
from app.models import Category

_KEY = "category_counts"

Counts = defaultdict[int, list[int]]  # category id -> [topics, posts]


def _new_counts() -> Counts:
    return defaultdict(lambda: [0, 0])


def count(session: AsyncSession, category_id: int, *, topics: int = 0, posts: int = 0) -> None:
    """Move a category's counts when this transaction commits."""
    if not _installed:
        install()  # a process that skipped app.wiring (which installs it first) still counts
    moved = transaction_state(session, _KEY, _new_counts)[category_id]
    moved[0] += topics
    moved[1] += posts


def _counts_update(_insert: Any) -> Any:
    table = cast(Table, Category.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(
            topic_count=table.c.topic_count + bindparam("p_topics"),
            post_count=table.c.post_count + bindparam("p_posts"),
        )
    )


def _write(session: Session) -> None:
    """``before_commit``: the transaction's moves, after everything else, in id order."""
    moves: Counts | None = take_transaction_state(session, _KEY)
    rows = [
        {"p_id": category_id, "p_topics": topics, "p_posts": posts}
        for category_id, (topics, posts) in sorted((moves or {}).items())
        if topics or posts
    ]
    if not rows:
        return
    session.flush()
    statement = prebuilt(session, "forums.category_counts", _counts_update)
    for row in rows:
        execute_prebuilt_sync(session.connection(), "forums.category_counts", statement, row)


_installed = False


def install() -> None:
    """Write the moves at every commit. app.wiring installs this before the community tally,
    so every process writes category rows before community rows."""
    global _installed
    if not event.contains(Session, "before_commit", _write):
        event.listen(Session, "before_commit", _write)
    _installed = True
