from __future__ import annotations

import re

from sqlalchemy import func, select

from app.activity import verbs
from app.models import Activity, Member, Rank
from tests.points.conftest import api_token, totals


async def _award(client, token: str, member, amount: int, key: str):
    return await client.post(
        "/api/v1/points/awards",
        json={"member_id": member.id, "amount": amount, "reason": "Event attended"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


async def _rank_name(database, member) -> str | None:
    async with database.transaction(write=False) as session:
        return await session.scalar(
            select(Rank.name_en)
            .join(Member, Member.rank_id == Rank.id)
            .where(Member.id == member.id)
        )


async def _rank_ups(database, member) -> int:
    async with database.transaction(write=False) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Activity)
                .where(Activity.verb == verbs.RANK_REACHED, Activity.actor_id == member.id)
            )
            or 0
        )


async def test_rank_follows_points_and_rank_up_is_recorded_exactly_once(
    member_factory, database, make_client
):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(locale="en")
    http = make_client()
    assert await _rank_name(database, fan) == "Newcomer"
    assert await _rank_ups(database, fan) == 0

    assert (await _award(http, token, fan, 45, "a")).status_code == 201
    assert await totals(database, fan) == (55, 55)
    assert await _rank_name(database, fan) == "Regular"
    assert await _rank_ups(database, fan) == 1

    assert (await _award(http, token, fan, -20, "b")).status_code == 201
    assert await _rank_name(database, fan) == "Newcomer"
    assert (await _award(http, token, fan, 20, "c")).status_code == 201
    assert await _rank_name(database, fan) == "Regular"
    assert await _rank_ups(database, fan) == 1

    me = (await http.get(f"/api/v1/members/{fan.handle}/points")).json()
    assert me["rank"]["name"] == "Regular"
    assert me["next_rank"]["name"] == "Enthusiast"
    assert me["points_to_next_rank"] == 200 - 55
    assert me["spendable_points"] is None  # private to the member and staff


async def test_rank_up_shows_a_celebration_once(
    member_factory, database, client, login, make_client
):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(locale="en")
    await login(client, fan)
    first = await client.get("/")
    assert "Congratulations" not in first.text
    await _award(make_client(), token, fan, 100, "climb")
    page = await client.get("/")
    assert "Congratulations! You reached the rank 🍀 Regular." in page.text
    again = await client.get("/")
    assert "Congratulations" not in again.text


async def test_rank_badge_appears_next_to_names(member_factory, database, client, login):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(name="Badge Fan", locale="en")
    await _award(client, token, fan, 300, "k")
    board = await client.get("/leaderboard")
    row = re.search(
        r'<a class="member-link" href="/u/[^"]+">Badge Fan</a>.*?</tr>', board.text, re.S
    )
    assert row is not None
    assert "🔥 Enthusiast" in row.group(0)
    profile = await client.get(f"/u/{fan.handle}")
    assert "🔥 Enthusiast" in profile.text
    assert 'style="' not in profile.text  # the CSP forbids inline styles


async def test_admin_edits_the_ladder_and_members_follow_at_once(
    member_factory, database, client, login
):
    admin = await member_factory(role="admin", locale="en")
    fan = await member_factory(locale="en")
    await login(client, admin)
    page = await client.get("/admin/ranks")
    assert page.status_code == 200
    async with database.transaction(write=False) as session:
        regular = (
            await session.execute(select(Rank).where(Rank.name_en == "Regular"))
        ).scalar_one()
    saved = await client.submit(
        f"/admin/ranks/{regular.id}",
        {
            "name_en": "Regular",
            "name_ja": "レギュラー",
            "threshold": "5",
            "colour": "#1e6b34",
            "badge": "🍀",
            "benefits_en": "A badge.",
            "benefits_ja": "バッジ",
        },
    )
    assert saved.status_code == 303
    assert await _rank_name(database, fan) == "Regular"
    assert await _rank_ups(database, fan) == 0  # an admin moving thresholds is no achievement

    clash = await client.submit(
        "/admin/ranks",
        {"name_en": "Copy", "threshold": "5", "colour": "#zzzzzz"},
    )
    assert clash.status_code == 422
    assert "This value is not valid." in clash.text

    taken = await client.send_json(
        "POST", "/api/v1/ranks", {"name_en": "Copy", "threshold": 5, "colour": "#123456"}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["field"] == "threshold"

    created = await client.send_json(
        "POST", "/api/v1/ranks", {"name_en": "Starter", "threshold": 1, "badge": "⭐"}
    )
    assert created.status_code == 201
    deleted = await client.request(
        "DELETE",
        f"/api/v1/ranks/{regular.id}",
        headers={"X-CSRF-Token": await client.csrf_token()},
    )
    assert deleted.status_code == 204
    assert await _rank_name(database, fan) == "Starter"
    ranks = (await client.get("/api/v1/ranks")).json()
    assert [rank["threshold"] for rank in ranks] == [0, 1, 200, 500, 1500, 5000]


async def test_reaching_a_rank_notifies_the_member(member_factory, database, client, login):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(locale="en")
    await _award(client, token, fan, 60, "note")
    await login(client, fan)
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "Regular" in page.text
