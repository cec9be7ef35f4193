"""Pages keep the rank ladder for KIZUNA_RANKS_CACHE_SECONDS (app.points.ladder.page_ladder):
no query for it on a warm page, and an admin's edit still shows on the very next page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from app.config import get_settings
from app.models import Member, Rank
from app.points import ladder
from tests.statements import counting


@pytest.fixture
def ranks_cached(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(get_settings(), "ranks_cache_seconds", 300.0)
    ladder.forget_ladder()
    yield
    ladder.forget_ladder()


async def test_an_admin_edit_shows_at_once_while_pages_skip_the_ladder_query(
    ranks_cached, client, make_client, member_factory, login, database
):
    admin = await member_factory(role="admin", locale="en")
    fan = await member_factory(name="Chie", locale="en")
    async with database.transaction() as session:  # the default ladder (tests/points/conftest.py)
        rank = (await session.execute(select(Rank).order_by(Rank.threshold))).scalars().first()
        assert rank is not None
        await session.execute(
            update(Rank).where(Rank.id == rank.id).values(name_en="Sprout", name_ja="芽")
        )
        await session.execute(update(Member).where(Member.id == fan.id).values(rank_id=rank.id))
        rank_id, threshold, colour = rank.id, rank.threshold, rank.colour

    first = await client.get("/leaderboard")
    assert "Sprout" in first.text
    with counting(database) as statements:
        again = await client.get("/leaderboard")
    assert "Sprout" in again.text
    assert statements, "the page was read"
    assert [s for s in statements if "FROM ranks" in s and "ranks.benefits_en" in s] == []

    admin_browser = make_client()
    await login(admin_browser, admin)
    changed = await admin_browser.send_json(
        "PUT",
        f"/api/v1/ranks/{rank_id}",
        {"name_en": "Seedling", "name_ja": "苗", "threshold": threshold, "colour": colour},
    )
    assert changed.status_code == 200, changed.text
    after = await client.get("/leaderboard")
    assert "Seedling" in after.text
    assert "Sprout" not in after.text
