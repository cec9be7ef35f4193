from __future__ import annotations

import asyncio

from sqlalchemy import update

from app.activity import verbs
from app.cli import main
from app.models import Member, PointKindTotal, PointPeriodTotal
from app.points import queries
from tests.points.conftest import act, totals


async def test_points_check_verifies_and_rebuilds_cached_totals(member_factory, database, capsys):
    fan = await member_factory(locale="en")
    author = await member_factory(locale="en")
    await act(database, verbs.POST_CREATED, fan, subject=("post", 1))
    await act(database, verbs.LIKE_GIVEN, author, fan, subject=("post", 1))
    await act(database, verbs.LIKE_UNDONE, author, fan, subject=("post", 1))
    await act(database, verbs.ANSWER_ACCEPTED, author, fan, subject=("post", 1))

    assert await asyncio.to_thread(main, ["points", "check"]) == 0
    assert "consistent" in capsys.readouterr().out

    async with database.transaction() as session:
        await session.execute(update(Member).where(Member.id == fan.id).values(lifetime_points=999))
        await session.execute(
            update(PointPeriodTotal)
            .where(PointPeriodTotal.member_id == author.id, PointPeriodTotal.period == "week")
            .values(points=0)
        )
        await session.execute(
            update(PointKindTotal)
            .where(PointKindTotal.member_id == fan.id, PointKindTotal.kind == verbs.LIKE_GIVEN)
            .values(points=3)
        )
    assert await asyncio.to_thread(main, ["points", "check"]) == 1
    out = capsys.readouterr().out
    assert f"member {fan.id}: lifetime_points cached=999 ledger=27" in out
    assert f"member {author.id}: week total" in out
    # The like was undone: its kind nets out to nothing, which the cached 3 contradicts.
    assert f"member {fan.id}: {verbs.LIKE_GIVEN} total cached=3 ledger=0" in out

    assert await asyncio.to_thread(main, ["points", "check", "--rebuild"]) == 0
    assert await totals(database, fan) == (27, 27)
    assert await asyncio.to_thread(main, ["points", "check"]) == 0
    async with database.transaction(write=False) as session:
        figures = await queries.profile_figures(session, fan.id)
    assert "Like received" not in " ".join(label for label, _points in figures.breakdown)
    assert sum(points for _label, points in figures.breakdown) == 27
