"""Scores follow activities in two steps: the activity's own transaction adds to the members'
engagement and marks them dirty; shortly after the commit (or at the scheduler's next tick) one
batch recomputes everything else for the dirty members, with the same result as a full
``kizuna analytics recompute``, and flags a newly detected ambassador once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from app.activity import service as activity
from app.analytics import service
from app.config import get_settings
from app.kit import clock
from app.models import Activity, AnalyticsMemberScore, Member, Role
from app.scheduler import tick
from tests.analytics.community import days_ago, record, set_joined

COLUMNS = (
    "last_active_day",
    "latest_nps",
    "frequency",
    "contribution",
    "reach",
    "r_score",
    "f_score",
    "m_score",
    "rfm_group",
    "decile",
    "advocate_type",
    "detection",
    "ambassador_status",
    "explanation",
)


async def _scores(database: Any) -> dict[int, dict[str, Any]]:
    async with database.transaction(write=False) as session:
        rows = (await session.execute(select(AnalyticsMemberScore))).scalars().all()
        return {
            row.member_id: {
                "heat": pytest.approx(row.heat_base, rel=1e-9),
                "dirty": row.dirty,
                **{column: getattr(row, column) for column in COLUMNS},
            }
            for row in rows
        }


async def _flags(database: Any, member: Member) -> int:
    async with database.transaction(write=False) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Activity)
                .where(Activity.verb == "ambassador.flagged", Activity.recipient_id == member.id)
            )
            or 0
        )


async def _like(session: Any, liker: Member, author: Member, post_id: int) -> None:
    """Today's like of one of ``author``'s posts, recorded in ``session``'s transaction."""
    await activity.record(
        session,
        "like.given",
        actor_id=liker.id,
        recipient_id=author.id,
        subject=("post", post_id),
        data={"topic_id": 1},
        occurred_at=days_ago(0),
    )


async def _like_without_its_batch(database: Any, liker: Member, author: Member) -> None:
    """A like committed without its after-commit work (the process stopped right after it,
    or the batch is still computing)."""
    async with database.session(write=True) as session:
        await _like(session, liker, author, 3)
        await session.commit()


async def _community(database: Any, member_factory: Any) -> tuple[Member, list[Member]]:
    star = await member_factory(name="Star")
    fans = [await member_factory(name=f"Fan {i}") for i in range(6)]
    await member_factory(name="Staff", role=Role.operator)
    await set_joined(database, fans[0], days_ago(400))
    for age in (1, 2, 3, 40):
        await record(database, "post.created", star, days_ago(age), subject=("post", age))
    for i, fan in enumerate(fans):
        await record(
            database,
            "like.given",
            fan,
            days_ago(i % 3),
            recipient_id=star.id,
            subject=("post", 1),
            data={"topic_id": 1},
        )
        await record(database, "post.created", fan, days_ago(i * 20), subject=("post", 100 + i))
    return star, fans


async def test_scores_follow_after_the_commit_and_equal_a_full_recompute(member_factory, database):
    star, fans = await _community(database, member_factory)
    # Every activity's batch ran once its transaction committed: nobody is left dirty, and
    # the star, liked by six members, was flagged once.
    kept = await _scores(database)
    assert not any(score["dirty"] for score in kept.values())
    assert kept[star.id]["reach"] == 6
    assert kept[star.id]["ambassador_status"] == "flagged"
    assert await _flags(database, star) == 1

    # Inside the activity's transaction only engagement moves; the rest waits for the commit.
    newcomer = await member_factory(name="Newcomer")
    async with database.transaction() as session:
        await _like(session, newcomer, star, 2)
        waiting = await session.get(AnalyticsMemberScore, star.id)
        assert waiting is not None
        assert waiting.dirty
        assert waiting.reach == 6
        assert waiting.heat_base > kept[star.id]["heat"].expected
    after = await _scores(database)
    assert after[star.id]["reach"] == 7
    assert not after[star.id]["dirty"]

    # The batch over everybody writes what a full recompute writes, and neither flags twice.
    async with database.transaction() as session:
        await session.execute(update(AnalyticsMemberScore).values(dirty=True))
        assert await service.refresh_dirty(session) == len(fans) + 2
    batched = await _scores(database)
    async with database.transaction() as session:
        await service.recompute_all(session)
    assert await _scores(database) == batched
    assert {score["decile"] for score in batched.values()} >= {1, 2}
    assert await _flags(database, star) == 1


async def test_the_tick_refreshes_members_whose_batch_did_not_run(member_factory, database):
    star, _fans = await _community(database, member_factory)
    before = (await _scores(database))[star.id]
    await _like_without_its_batch(database, await member_factory(name="Newcomer"), star)
    waiting = (await _scores(database))[star.id]
    assert waiting["dirty"]
    assert waiting["reach"] == before["reach"] == 6

    result = await tick(database)
    assert result.scores_refreshed == 2  # the star and the newcomer
    refreshed = (await _scores(database))[star.id]
    assert not refreshed["dirty"]
    assert refreshed["reach"] == 7
    assert (await tick(database)).scores_refreshed == 0
    assert await _flags(database, star) == 1


async def test_the_commits_of_a_burst_are_refreshed_by_one_batch_after_the_delay(
    member_factory, database, monkeypatch
):
    """In production the batch waits a moment after a commit
    (``KIZUNA_SCORE_REFRESH_DELAY_SECONDS``), and the commits that come meanwhile are served
    by that same batch: three likes for the star in a row cost one batch, and once it has run
    everybody's figures are what they would be after a batch per like."""
    star, _fans = await _community(database, member_factory)
    newcomers = [await member_factory(name=f"Newcomer {i}") for i in range(3)]
    batches: list[int] = []
    for name in ("_batch_from_snapshot", "_batch_locked"):
        original = getattr(service, name)

        async def counted(db: Any, original: Any = original) -> int:
            refreshed: int = await original(db)
            batches.append(refreshed)
            return refreshed

        monkeypatch.setattr(service, name, counted)
    # Far longer than the test: settle() below wakes the waiting batch, as the app's shutdown does.
    monkeypatch.setattr(get_settings(), "score_refresh_delay_seconds", 60.0)

    for post_id, newcomer in enumerate(newcomers, start=10):
        async with database.transaction() as session:
            await _like(session, newcomer, star, post_id)
    waiting = (await _scores(database))[star.id]
    assert waiting["dirty"]
    assert waiting["reach"] == 6
    assert batches == []

    await service.settle()
    assert batches == [4]  # the star and the three newcomers, in one batch
    scores = await _scores(database)
    assert not any(score["dirty"] for score in scores.values())
    assert scores[star.id]["reach"] == 9

    # Left alone, the waiting batch runs when its delay has passed.
    monkeypatch.setattr(get_settings(), "score_refresh_delay_seconds", 0.1)
    async with database.transaction() as session:
        await _like(session, await member_factory(name="Latecomer"), star, 20)
    await asyncio.gather(*list(service._background))
    assert batches == [4, 2]
    assert (await _scores(database))[star.id]["reach"] == 10
    assert await _flags(database, star) == 1


async def test_a_member_marked_again_while_a_batch_computes_waits_for_the_next(
    member_factory, database
):
    """On SQLite a batch computes from a snapshot, taking no lock, and writes afterwards: a
    member whose facts changed in between keeps their mark rather than get stale figures."""
    star, fans = await _community(database, member_factory)
    async with database.transaction() as session:
        await session.execute(update(AnalyticsMemberScore).values(dirty=True))
    async with database.transaction(write=False) as reading:
        computed = await service._compute_scores(
            reading, [star.id, fans[1].id], clock.community_day()
        )
    # A like for the star commits between the batch's read and its write.
    await _like_without_its_batch(database, await member_factory(name="Newcomer"), star)
    async with database.transaction() as session:
        await service._write_scores(session, computed, recheck=True)
    scores = await _scores(database)
    assert scores[star.id]["dirty"]
    assert scores[star.id]["reach"] == 6
    assert not scores[fans[1].id]["dirty"]

    assert await service.refresh_pending(database) >= 2  # the star and the newcomer
    refreshed = (await _scores(database))[star.id]
    assert not refreshed["dirty"]
    assert refreshed["reach"] == 7
    assert await _flags(database, star) == 1


async def test_a_batch_finds_its_members_by_their_own_index_and_keeps_a_detection_as_it_was(
    member_factory, database
):
    """What a like writes twice for each member it concerns stays small: the dirty mark is
    indexed for the dirty members alone, and the batch leaves the indexed columns (the
    detection, the advocate type, the RFM group) alone unless they move."""
    star, fans = await _community(database, member_factory)
    before = await _scores(database)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ANALYTICS_MEMBER_SCORES"):
            statements.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        # A second like from a fan: the star stays an ambassador, the fan stays unflagged.
        await _like_without_its_batch(database, fans[1], star)
        assert await service.refresh_pending(database) == 2
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    scores = await _scores(database)
    assert scores[star.id]["detection"] == "ambassador"
    assert not scores[star.id]["dirty"]
    assert not scores[fans[1].id]["dirty"]
    assert statements
    indexed = ("detection", "advocate_type", "rfm_group")
    for member in (star, fans[1]):
        for column in indexed:
            assert scores[member.id][column] == before[member.id][column], column
    for column in indexed:
        assert all(column not in statement.split("WHERE")[0] for statement in statements)

    async with database.transaction(write=False) as session:
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            dirty = str(service._dirty_build(None).compile(dialect=connection.dialect))
            plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {dirty}", (500, 0))).all()
            assert any("ix_analytics_member_scores_dirty" in row[-1] for row in plan), plan
