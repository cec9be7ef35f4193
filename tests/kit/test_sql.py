"""Statements run as Core on the session's connection (app.kit.sql) belong to the session's
current transaction: what it rolls back is gone, what it commits stays, and a session that
goes on to a second transaction runs them in that one."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from app.kit.sql import execute_core, run_prebuilt
from app.models import Category


def _add(insert_):
    table = Category.__table__
    return insert_(table).values(
        slug=bindparam("p_slug"),
        name_en=bindparam("p_slug"),
        name_ja=bindparam("p_slug"),
        description_en="",
    )


async def _slugs(database) -> list[str]:
    async with database.transaction(write=False) as session:
        return list(
            (await session.execute(select(Category.slug).order_by(Category.slug))).scalars()
        )


async def test_core_statements_follow_the_sessions_transactions(database):
    async with database.session(write=True) as session:
        await run_prebuilt(session, "test.category", _add, {"p_slug": "dropped"})
        await session.rollback()
        await run_prebuilt(session, "test.category", _add, {"p_slug": "kept"})
        await session.commit()
        # A second transaction of the same session: its statements see the first's rows.
        await run_prebuilt(session, "test.category", _add, {"p_slug": "second"})
        count = await execute_core(session, select(func.count()).select_from(Category))
        assert count.scalar_one() == 2
        await session.commit()
    assert await _slugs(database) == ["kept", "second"]
