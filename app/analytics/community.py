"""The community-wide rollup rows, written at commit in one fixed order.

Nearly every write touches a few rows that belong to the whole community: the day's count of
its verb (``analytics_daily``) and, on a member's first activity of a day, the day's active
members and their returns (``analytics_active``, ``analytics_active_returns``). On PostgreSQL
an updated row stays locked until commit, so two transactions that touched two of them in
opposite orders (an answer switched: the day's ``answer.unaccepted`` then its active members;
a first accept: ``answer.accepted`` then the same active members) deadlocked.

They are pure increments that nothing reads back within the transaction, so each activity adds
to a tally kept in the session, and the tally is written just before the commit, after every
other change is flushed: rows in one global order (table, then key), held only for the
commit itself. SQLite writes one transaction at a time; the same tally saves it statements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.kit.sql import (
    execute_prebuilt_sync,
    insert,
    prebuilt,
    take_transaction_state,
    transaction_state,
)
from app.models import AnalyticsActive, AnalyticsActiveReturn, AnalyticsDaily

_KEY = "community_rollups"


@dataclass
class Tally:
    # (day, verb) -> activities
    daily: Counter[tuple[date, str]] = field(default_factory=Counter)
    # day -> [members active that day, 7-day windows ending, 30-day windows ending]
    active: defaultdict[date, list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    # (day, previous active day) -> members
    returns: Counter[tuple[date, date]] = field(default_factory=Counter)


def tally(session: AsyncSession) -> Tally:
    """This transaction's tally (a new one when the transaction is new)."""
    return transaction_state(session, _KEY, Tally)


def _daily_upsert(insert_: Any) -> Any:
    table = AnalyticsDaily.__table__
    stmt = insert_(table).values(
        day=bindparam("p_day"), verb=bindparam("p_verb"), count=bindparam("p_amount")
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.day, table.c.verb],
        set_={"count": table.c.count + stmt.excluded.count},
    )


def _write_daily(session: Session, counts: Counter[tuple[date, str]]) -> None:
    rows = [{"p_day": d, "p_verb": v, "p_amount": n} for (d, v), n in sorted(counts.items()) if n]
    if not rows:
        return
    # Nearly every write ends here: built once (building and hashing it cost more than the
    # upsert itself), and on SQLite run straight on the driver.
    stmt = prebuilt(session, "community.daily", _daily_upsert)
    # One row (the usual case) as a plain execute; a list takes the executemany path.
    execute_prebuilt_sync(
        session.connection(), "community.daily", stmt, rows[0] if len(rows) == 1 else rows
    )


def _write_active(session: Session, changes: dict[date, list[int]]) -> None:
    rows: list[dict[str, Any]] = [
        {"day": d, "members": c[0], "week_ends": c[1], "month_ends": c[2]}
        for d, c in sorted(changes.items())
        if any(c)
    ]
    if not rows:
        return
    stmt = insert(session, AnalyticsActive).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[AnalyticsActive.day],
            set_={
                "members": AnalyticsActive.members + stmt.excluded.members,
                "week_ends": AnalyticsActive.week_ends + stmt.excluded.week_ends,
                "month_ends": AnalyticsActive.month_ends + stmt.excluded.month_ends,
            },
        )
    )
    emptied = [row["day"] for row in rows if min(row["week_ends"], row["month_ends"]) < 0]
    if emptied:
        session.execute(
            delete(AnalyticsActive).where(
                AnalyticsActive.day.in_(emptied),
                AnalyticsActive.members == 0,
                AnalyticsActive.week_ends == 0,
                AnalyticsActive.month_ends == 0,
            )
        )


def _write_returns(session: Session, moves: Counter[tuple[date, date]]) -> None:
    rows: list[dict[str, Any]] = [
        {"day": d, "previous_day": previous, "members": n}
        for (d, previous), n in sorted(moves.items())
        if n
    ]
    if not rows:
        return
    stmt = insert(session, AnalyticsActiveReturn).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[AnalyticsActiveReturn.day, AnalyticsActiveReturn.previous_day],
            set_={"members": AnalyticsActiveReturn.members + stmt.excluded.members},
        )
    )
    for row in rows:
        if row["members"] < 0:
            session.execute(
                delete(AnalyticsActiveReturn).where(
                    AnalyticsActiveReturn.day == row["day"],
                    AnalyticsActiveReturn.previous_day == row["previous_day"],
                    AnalyticsActiveReturn.members == 0,
                )
            )


def _write_tally(session: Session) -> None:
    """``before_commit``: write the transaction's tally, last, in table and key order. (Also
    called when a savepoint is released: the tally so far is written inside it, and what
    follows goes into a new one.)"""
    counts: Tally | None = take_transaction_state(session, _KEY)
    if counts is None or not (counts.daily or counts.active or counts.returns):
        return
    # Everything else first: its row locks are taken before any community row's, so no
    # transaction waits for a member's row while holding a community row.
    session.flush()
    _write_daily(session, counts.daily)
    _write_active(session, counts.active)
    _write_returns(session, counts.returns)


def install() -> None:
    if not event.contains(Session, "before_commit", _write_tally):
        event.listen(Session, "before_commit", _write_tally)
