"""The engagement ranking read along its index (app.analytics.ranking) places every member
where a full sort of the population would."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete

from app.analytics import metrics, ranking
from app.models import AnalyticsMemberScore, Role
from tests.statements import recording


@pytest.mark.parametrize("staff_row", [True, False])
async def test_members_at_each_place_of_the_ranking_as_a_full_sort_puts_them(
    member_factory, database, staff_row
):
    members = [await member_factory(name=f"R{i}") for i in range(31)]
    moderator = await member_factory(name="Mod", role=Role.moderator)
    shuffle = random.Random(3)
    heats = {}
    async with database.transaction() as session:
        await session.execute(delete(AnalyticsMemberScore))
        for member in members:
            # Few distinct values: long runs of ties, each ordered by member id.
            heats[member.id] = float(shuffle.choice((0.0, 0.5, 2.0, 7.25)))
            session.add(AnalyticsMemberScore(member_id=member.id, heat_base=heats[member.id]))
        if staff_row:
            # Scored while a member, since made staff: ranked ahead of everybody, yet no place.
            session.add(AnalyticsMemberScore(member_id=moderator.id, heat_base=99.0))

    expected = sorted(heats, key=lambda member_id: (-heats[member_id], member_id))
    async with database.transaction(write=False) as session:
        assert await ranking.population(session) == len(members)
        rows = await ranking.population_rows(session)
        assert await ranking.scored_members(session, rows) == len(members)
        every = await ranking.members_at(session, range(len(members) + 3), rows)
        some = await ranking.members_at(session, [29, 3, 3, 17, -1, 40], rows)
        deciles = await ranking.members_at(session, metrics.decile_starts(len(members))[1:], rows)

    assert [member_id for _heat, member_id in every.values()] == expected
    assert list(every) == list(range(len(members)))
    assert all(every[p][0] == heats[expected[p]] for p in every)
    assert some == {p: every[p] for p in (3, 17, 29)}
    ranks = metrics.deciles(heats)
    assert {position: ranks[member_id] for position, (_h, member_id) in deciles.items()} == {
        position: decile + 2 for decile, position in enumerate(sorted(deciles))
    }


async def test_members_without_a_score_row_count_in_the_population_not_among_the_scored(
    member_factory, database
):
    members = [await member_factory(name=f"U{i}") for i in range(4)]
    await member_factory(name="Admin", role=Role.admin)
    async with database.transaction() as session:
        await session.execute(delete(AnalyticsMemberScore))
        for member in members[:3]:
            session.add(AnalyticsMemberScore(member_id=member.id, heat_base=1.0))
    async with database.transaction(write=False) as session:
        assert await ranking.population(session) == 4
        rows = await ranking.population_rows(session)
        assert await ranking.scored_members(session, rows) == 3


@pytest.mark.parametrize("staff_row", [True, False])
async def test_advocate_types_and_rfm_groups_are_counted_from_their_index(
    member_factory, database, staff_row
):
    from collections import Counter

    from app.analytics import queries
    from app.kit.sql import dialect_name

    members = [await member_factory(name=f"A{i}") for i in range(12)]
    moderator = await member_factory(name="Mod", role=Role.moderator)
    kinds = ("validator", "educator", "")
    groups = ("loyal", "new", "dormant", "champions")
    async with database.transaction() as session:
        await session.execute(delete(AnalyticsMemberScore))
        for i, member in enumerate(members):
            session.add(
                AnalyticsMemberScore(
                    member_id=member.id, advocate_type=kinds[i % 3], rfm_group=groups[i % 4]
                )
            )
        if staff_row:
            session.add(
                AnalyticsMemberScore(
                    member_id=moderator.id, advocate_type="validator", rfm_group="loyal"
                )
            )

    with recording(database) as statements:
        async with database.session(write=False) as session:
            advocates, rfm = await queries.distribution_tables(session)
            count, args = next(s for s in statements if "GROUP BY" in s[0])
            plan = []
            if dialect_name(session) == "sqlite":
                connection = await session.connection()
                plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {count}", args)).all()
    by_kind = Counter(kinds[i % 3] for i in range(len(members)))
    by_group = Counter(groups[i % 4] for i in range(len(members)))
    assert [row[1] for row in advocates.rows] == [
        by_kind[kind] for kind in ("educator", "validator", "status_seeker", "collaborator", "")
    ]
    assert dict(zip(queries.metrics.RFM_GROUPS, (row[1] for row in rfm.rows), strict=True)) == {
        group: by_group[group] for group in queries.metrics.RFM_GROUPS
    }
    if plan:
        assert any(
            "COVERING INDEX ix_analytics_member_scores_distribution" in row[-1] for row in plan
        ), plan


async def test_a_recompute_leaves_the_rewritten_scores_vacuumed_on_postgresql(
    member_factory, database
):
    """Right after every score row is rewritten, PostgreSQL would read each of them for the
    scores page's index-only counts and steps until autovacuum came by; the recompute command
    vacuums the table itself."""
    from sqlalchemy import text, update

    from app.analytics.cli import vacuum
    from app.kit.sql import dialect_name

    for i in range(30):
        await member_factory(name=f"V{i}")
    async with database.transaction() as session:
        if dialect_name(session) != "postgresql":
            pytest.skip("SQLite keeps no visibility map: nothing to vacuum")
        await session.execute(update(AnalyticsMemberScore).values(reach=3))

    async def visibility() -> tuple[int, int]:
        async with database.transaction(write=False) as session:
            pages, visible = (
                await session.execute(
                    text(
                        "SELECT relpages, relallvisible FROM pg_class "
                        "WHERE relname = 'analytics_member_scores'"
                    )
                )
            ).one()
            return int(pages), int(visible)

    assert (await visibility())[1] == 0
    await vacuum(database, [AnalyticsMemberScore.__tablename__])
    pages, visible = await visibility()
    assert pages > 0
    assert visible == pages
