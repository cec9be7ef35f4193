"""Data the migrations seed: every documented default point rule, idempotently."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from app.cli import alembic_config
from app.db import create_engine_unpooled
from app.models import PointRule
from app.points import policy
from tests.test_migrations import empty_database  # noqa: F401  (fixture)

Rules = dict[str, tuple[int, int, int | None]]


def _rules(url: str) -> Rules:
    async def read() -> Rules:
        engine = create_engine_unpooled(url)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(
                    PointRule.verb,
                    PointRule.actor_points,
                    PointRule.recipient_points,
                    PointRule.daily_cap,
                )
            )
            found = {row[0]: (row[1], row[2], row[3]) for row in rows}
        await engine.dispose()
        return found

    return asyncio.run(read())


def _change_rule(url: str, verb: str, actor_points: int) -> None:
    async def write() -> None:
        engine = create_engine_unpooled(url)
        async with engine.begin() as connection:
            await connection.execute(
                update(PointRule).where(PointRule.verb == verb).values(actor_points=actor_points)
            )
        await engine.dispose()

    asyncio.run(write())


def test_migrations_seed_every_documented_default_rule(empty_database: str) -> None:  # noqa: F811
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    seeded = _rules(empty_database)
    assert seeded == {
        rule.verb: (rule.actor_points, rule.recipient_points, rule.daily_cap)
        for rule in policy.DEFAULT_RULES
    }
    # Undone, 0010 removes only its own rules; replayed over rules that exist (an admin gave
    # one of the verbs a rule of their own), it keeps them and adds nothing twice.
    script = ScriptDirectory.from_config(config).get_revision("0010")
    assert script is not None
    previous = str(script.down_revision)
    command.downgrade(config, previous)
    assert set(_rules(empty_database)) == set(seeded) - {
        "campaign.entered",
        "campaign.selected",
        "campaign.attended",
        "review.created",
        "survey.answered",
    }
    command.upgrade(config, "0010")
    _change_rule(empty_database, "campaign.entered", 7)
    command.stamp(config, previous)
    command.upgrade(config, "0010")
    assert _rules(empty_database) == {**seeded, "campaign.entered": (7, 0, None)}
