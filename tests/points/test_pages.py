from __future__ import annotations

import re

from app.activity import verbs
from tests.points.conftest import act, api_token
from tests.statements import counting
from tests.uploads.images import give_avatar


async def _award(client, token: str, member, amount: int, key: str) -> None:
    response = await client.post(
        "/api/v1/points/awards",
        json={"member_id": member.id, "amount": amount, "reason": "Meetup"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text


async def test_my_points_lists_the_ledger_newest_first_with_reasons(
    member_factory, database, client, login
):
    fan = await member_factory(locale="en")
    author = await member_factory(locale="en")
    for topic_id in range(1, 36):
        await act(database, verbs.TOPIC_CREATED, fan, subject=("topic", topic_id))
    await act(database, verbs.LIKE_GIVEN, author, fan, subject=("post", 1))
    await login(client, fan)
    await client.get("/")  # the day's first visit pays 1
    page = await client.get("/points")
    assert page.status_code == 200
    assert '<span class="points-number">187</span>' in page.text  # 10 + 35 * 5 + 1 + 1
    reasons = re.findall(
        r"<td>(Daily visit|Like received|Starting a topic|Welcome bonus for joining)</td>",
        page.text,
    )
    assert reasons[:2] == ["Daily visit", "Like received"]
    assert len(reasons) == 30
    older = re.search(r'hx-get="(/points\?before=\d+)"', page.text)
    assert older is not None
    rest = await client.get(older.group(1), headers={"HX-Request": "true"})
    assert rest.status_code == 200
    assert "<html" not in rest.text
    assert len(re.findall(r"<tr>", rest.text)) == 8
    assert "Welcome bonus for joining" in rest.text

    api = (await client.get("/api/v1/points/ledger?limit=2")).json()
    assert [item["kind"] for item in api["items"]] == ["member.visited", "like.given"]
    more = (await client.get(f"/api/v1/points/ledger?limit=50&before={api['next_before']}")).json()
    assert len(more["items"]) == 36
    assert more["next_before"] is None

    other = await client.get(f"/api/v1/points/ledger?member={author.handle}")
    assert other.status_code == 404
    mine = (await client.get("/api/v1/points")).json()
    assert mine["lifetime_points"] == 187
    assert mine["spendable_points"] == 187


async def test_leaderboards_show_periods_own_position_and_can_leave_out_staff(
    member_factory, database, client, login
):
    operator = await member_factory(role="operator", name="Staff Sato", locale="en")
    token = await api_token(database, operator)
    fans = [await member_factory(name=f"Fan {n}", locale="en") for n in range(4)]
    for number, fan in enumerate(fans):
        await _award(client, token, fan, 100 - number * 10, f"k{number}")
    await _award(client, token, operator, 500, "staff")

    board = (await client.get("/api/v1/leaderboards/all?limit=2")).json()
    assert [row["display_name"] for row in board["items"]] == ["Staff Sato", "Fan 0"]
    assert board["items"][0]["position"] == 1
    second = (
        await client.get(f"/api/v1/leaderboards/all?limit=2&after={board['next_after']}")
    ).json()
    assert [(row["position"], row["display_name"]) for row in second["items"]] == [
        (3, "Fan 1"),
        (4, "Fan 2"),
    ]
    no_staff = (await client.get("/api/v1/leaderboards/week?exclude_staff=true&limit=2")).json()
    assert [row["display_name"] for row in no_staff["items"]] == ["Fan 0", "Fan 1"]

    await login(client, fans[3])
    await client.get("/")  # the day's first visit pays 1: 71 + 10 = 81
    mine = (await client.get("/api/v1/leaderboards/month?limit=2")).json()
    assert mine["me"]["position"] == 5
    assert mine["me"]["points"] == 81
    page = await client.get("/leaderboard?period=week&staff=exclude")
    assert page.status_code == 200
    assert "Staff Sato" not in page.text
    assert "Your position: #4 with 81 points" in page.text
    assert "Fan 0" in page.text
    bad = await client.get("/api/v1/leaderboards/year")
    assert bad.status_code == 422
    broken = await client.get("/leaderboard?after=nonsense")
    assert broken.status_code == 422
    # A link whose numbers no total or member could have is refused as such on either
    # database (PostgreSQL would not even bind them), never a 500.
    for after in ("99999999999999999999999:1", "3000000000:1", "1:99999999999999999999999", "5:0"):
        page = await client.get(f"/leaderboard?after={after}")
        assert page.status_code == 422, after
        assert "This page link is not valid." in page.text
        api = await client.get(f"/api/v1/leaderboards/all?after={after}")
        assert api.status_code == 422, after
        assert api.json()["error"]["field"] == "after"


def _board_names(html: str) -> list[tuple[str | None, str]]:
    """Each leaderboard row's (avatar URL, display name), in order."""
    return re.findall(
        r'<a class="member-link" href="/u/[^"]+">'
        r'(?:<img class="avatar avatar-small" src="([^"]+)"[^>]*>)?([^<]+)</a>',
        html,
    )


async def test_leaderboard_shows_avatars_and_reads_each_page_in_as_many_statements(
    member_factory, database, client, login
):
    operator = await member_factory(role="operator", name="Staff Sato", locale="en")
    token = await api_token(database, operator)
    fans = [await member_factory(name=f"Fan {n}", locale="en") for n in range(6)]
    avatars = {}
    for number, fan in enumerate(fans):
        await _award(client, token, fan, 100 - number, f"a{number}")
        if number % 2 == 0:  # every other fan has an avatar
            avatars[fan.display_name] = await give_avatar(client, database, login, fan)
    await client.post("/signout", data={"csrf_token": await client.csrf_token()})

    ranked = (await client.get("/api/v1/leaderboards/all?exclude_staff=true")).json()["items"]
    names = [row["display_name"] for row in ranked]
    assert sorted(names) == sorted(fan.display_name for fan in fans)
    cursor = (await client.get("/api/v1/leaderboards/all?exclude_staff=true&limit=2")).json()[
        "next_after"
    ]
    counts = []
    for after, expected in (("", names), (f"&after={cursor}", names[2:])):
        with counting(database) as statements:
            page = await client.get(f"/leaderboard?period=all&staff=exclude{after}")
        assert page.status_code == 200
        counts.append(len(statements))
        shown = _board_names(page.text)
        assert [name for _avatar, name in shown] == expected
        for avatar, name in shown:
            assert (avatar or None) == avatars.get(name), name
    assert '<td class="num">3</td>' in page.text  # the later page counts on from the first
    # The ladder (read afresh in tests) and the page in one statement, avatars and all; a later
    # page also counts the rows before it.
    assert counts == [2, 3]


async def test_guide_explains_rules_and_ranks(client):
    page = await client.get("/points/guide")
    assert page.status_code == 200
    assert "Like received" in page.text
    assert "up to 50 a day" in page.text
    assert "Legend" in page.text
    assert "5000 points" in page.text
    rules = (await client.get("/api/v1/points/rules")).json()
    assert {"verb": "like.given", "recipient_points": 1, "daily_cap": 50}.items() <= next(
        rule for rule in rules if rule["verb"] == "like.given"
    ).items()


async def test_profile_shows_rank_progress_charts_and_breakdown(member_factory, database, client):
    fan = await member_factory(locale="en")
    author = await member_factory(locale="en")
    await act(database, verbs.TOPIC_CREATED, fan, subject=("topic", 1))
    await act(database, verbs.LIKE_GIVEN, author, fan, subject=("post", 1))
    page = await client.get(f"/u/{fan.handle}")
    assert page.status_code == 200
    text = page.text
    assert "Points and rank" in text
    assert "🌱 Newcomer" in text
    assert "34 points to Regular" in text
    assert '<progress id="rank-progress" value="16" max="50">' in text
    assert text.count('<rect class="bar"') == 12
    assert "Week of" in text
    assert ": 16 points" in text
    assert len(re.findall(r'<rect class="cal-\d"', text)) >= 365
    assert 'class="cal-0"' in text
    assert re.search(r'class="cal-[1-4]"', text)
    assert re.search(r"<td>Starting a topic</td><td class=\"num\">5</td>", text)
    assert 'style="' not in text


async def test_japanese_pages(member_factory, database, client, login):
    fan = await member_factory(locale="ja")
    await login(client, fan)
    page = await client.get("/points")
    assert "ポイント" in page.text
    guide = await client.get("/points/guide")
    assert "ビギナー" in guide.text
