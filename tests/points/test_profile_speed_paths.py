"""The profile page's fast paths (memoised charts, one statement for the figures) show exactly
what happened, at once, in the reader's language."""

from __future__ import annotations

import re

from app.activity import verbs
from app.db import Database
from app.kit import clock
from app.kit.i18n import format_day, set_locale
from app.points import queries
from tests.points.conftest import act


def _page(text: str) -> str:
    """The page without its CSRF token (random per page)."""
    return re.sub(r"[0-9a-f]{16}\.[0-9a-f]{64}", "CSRF", text)


def _today_title(text: str, label: str) -> str:
    match = re.search(rf"<title>({re.escape(label)}: [^<]*)</title>", text)
    assert match is not None, label
    return match.group(1)


def _day_label(locale: str) -> str:
    set_locale(locale)
    try:
        return format_day(clock.community_day())
    finally:
        set_locale("en")


def _count(title: str) -> int:
    match = re.search(r": (\d+) activit", title)
    assert match is not None, title
    return int(match.group(1))


async def test_calendar_and_figures_show_a_new_activity_right_away(
    member_factory, database, client
):
    fan = await member_factory(locale="en")
    today = _day_label("en")
    before = _count(_today_title((await client.get(f"/u/{fan.handle}")).text, today))

    await act(database, verbs.TOPIC_CREATED, fan, subject=("topic", 1))
    first = (await client.get(f"/u/{fan.handle}")).text
    assert _today_title(first, today) == f"{today}: {before + 1} activities"
    assert "Active on 1 day in the last year." in first
    assert '<td>Starting a topic</td><td class="num">5</td>' in first
    again = (await client.get(f"/u/{fan.handle}")).text
    assert _page(again) == _page(first)  # memoised: the same page

    await act(database, verbs.TOPIC_CREATED, fan, subject=("topic", 2))
    second = (await client.get(f"/u/{fan.handle}")).text
    assert _today_title(second, today) == f"{today}: {before + 2} activities"
    assert '<td>Starting a topic</td><td class="num">10</td>' in second
    assert ": 20 points</title>" in second  # this week's bar: 10 welcome + 2 * 5


async def test_each_member_and_language_gets_its_own_charts(member_factory, database, client):
    busy = await member_factory(locale="en")
    quiet = await member_factory(locale="en")
    en_day, ja_day = _day_label("en"), _day_label("ja")
    base = _count(_today_title((await client.get(f"/u/{quiet.handle}")).text, en_day))
    for topic_id in range(1, 4):
        await act(database, verbs.TOPIC_CREATED, busy, subject=("topic", topic_id))

    busy_en = (await client.get(f"/u/{busy.handle}")).text
    quiet_en = (await client.get(f"/u/{quiet.handle}")).text
    assert _today_title(busy_en, en_day) == f"{en_day}: {base + 3} activities"
    assert _count(_today_title(quiet_en, en_day)) == base

    busy_ja = (await client.get(f"/u/{busy.handle}", headers={"Accept-Language": "ja"})).text
    assert _today_title(busy_ja, ja_day) == f"{ja_day}: アクティビティ {base + 3} 件"
    assert "過去 1 年間のアクティビティ" in busy_ja
    assert " activities</title>" not in busy_ja
    assert "Less" not in busy_ja
    again_en = (await client.get(f"/u/{busy.handle}")).text
    assert "アクティビティ" not in again_en
    assert _page(again_en) == _page(busy_en)


async def test_profile_figures_per_week_day_and_kind(member_factory, database: Database):
    fan = await member_factory(locale="en")
    other = await member_factory(locale="en")
    await act(database, verbs.TOPIC_CREATED, fan, subject=("topic", 1))
    await act(database, verbs.LIKE_GIVEN, other, fan, subject=("post", 1))
    async with database.transaction(write=False) as session:
        before = await queries.profile_figures(session, fan.id)
    await act(database, verbs.RANK_REACHED, fan)
    async with database.transaction(write=False) as session:
        figures = await queries.profile_figures(session, fan.id)
        nobody = await queries.profile_figures(session, other.id + 1000)
    assert figures.days == before.days  # a rank-up is not the member's doing
    assert [points for _start, points in figures.weeks][-1] == 16
    assert dict(figures.breakdown)["Starting a topic"] == 5
    assert nobody.days == {}
    assert nobody.breakdown == []
    assert [points for _start, points in nobody.weeks] == [0] * 12


async def test_profile_handles_are_case_insensitive_and_unknown_ones_404(member_factory, client):
    fan = await member_factory(locale="en")
    assert (await client.get(f"/u/{fan.handle.upper()}")).status_code == 200
    assert (await client.get("/u/nobody-by-this-name")).status_code == 404
