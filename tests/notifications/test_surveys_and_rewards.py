"""Notifications for a survey that opens for me, my reward redemptions, a lottery I did not
win, and the links that lead to notification, token and webhook settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.analytics import nps
from app.kit import clock
from app.models import Member, Notification, NpsSurvey, Rank, Role
from app.points import service as points
from tests.campaigns.helpers import create_campaign, give_points


async def _survey(client: Any, **overrides: Any) -> int:
    today = clock.community_day()
    payload = {
        "title": "Spring survey",
        "subject": "Kizuna Coffee",
        "reason_question": "Why?",
        "audience": "everyone",
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=7)).isoformat(),
        **overrides,
    }
    response = await client.send_json("POST", "/api/v1/ops/surveys", payload)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _kinds(database: Any, member: Member) -> list[str]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(Notification.kind).where(Notification.member_id == member.id)
        )
        return list(rows.scalars())


async def test_a_survey_that_opens_tells_its_audience_only(
    client, make_client, database, member_factory, login
):
    async with database.transaction() as session:
        await points.seed_defaults(session)
        regular = await session.scalar(select(Rank.id).where(Rank.name_en == "Regular"))
    operator = await member_factory(role=Role.operator)
    fan = await member_factory(name="Hana", locale="ja")
    newcomer = await member_factory(locale="en")
    await give_points(database, fan, 80)
    await login(client, operator)
    survey_id = await _survey(client, audience="rank", min_rank_id=regular)

    browser = make_client()
    await login(browser, fan)
    page = await browser.get("/notifications")
    assert "アンケートへの回答をお待ちしています: Spring survey" in page.text
    row = (await browser.get("/api/v1/notifications")).json()["items"][0]
    opened = await browser.get(f"/notifications/{row['id']}/open")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/surveys/{survey_id}"
    assert (await browser.get(f"/surveys/{survey_id}")).status_code == 200
    assert await _kinds(database, newcomer) == []
    assert await _kinds(database, operator) == []


async def test_a_survey_made_ahead_is_announced_when_its_day_comes(
    client, make_client, database, member_factory, login
):
    operator = await member_factory(role=Role.operator)
    fan = await member_factory(locale="en")
    await login(client, operator)
    tomorrow = clock.community_day() + timedelta(days=1)
    survey_id = await _survey(client, opens_on=tomorrow.isoformat())
    browser = make_client()
    await login(browser, fan)
    assert "Spring survey" not in (await browser.get("/notifications")).text

    # The day comes; the first visit of that day, anyone's, announces it (nothing runs on a
    # timer). The fan already visited today: someone else's first visit does it.
    async with database.transaction() as session:
        await session.execute(
            update(NpsSurvey)
            .where(NpsSurvey.id == survey_id)
            .values(opens_at=clock.now() - timedelta(minutes=1))
        )
    early_bird = make_client()
    await login(early_bird, await member_factory(locale="en"))
    await early_bird.get("/")
    page = await browser.get("/notifications")
    assert "A survey is waiting for your answer: Spring survey" in page.text
    # Announced once, however many first visits follow.
    late = make_client()
    await login(late, await member_factory(locale="en"))
    await late.get("/")
    assert await _kinds(database, fan) == ["survey"]


async def test_an_answered_survey_does_not_hide_one_made_ahead(
    client, make_client, database, member_factory, login
):
    """The check every first visit of a day makes finds each survey's own announcement (by
    its key), not just any activity about a survey: answers and other surveys' announcements
    neither count as this one's nor keep it from being made once its day comes."""
    operator = await member_factory(role=Role.operator)
    fan = await member_factory(locale="en")
    await login(client, operator)
    today = clock.community_day()
    open_now = await _survey(client, title="Open survey")
    voter = make_client()
    await login(voter, fan)
    answered = await voter.send_json("POST", f"/api/v1/surveys/{open_now}/responses", {"score": 9})
    assert answered.status_code == 201, answered.text
    async with database.session(write=False) as reading:
        assert await nps.has_unannounced(reading) is False

    ahead = await _survey(
        client, title="Later survey", opens_on=(today + timedelta(days=1)).isoformat()
    )
    async with database.transaction() as session:
        await session.execute(
            update(NpsSurvey)
            .where(NpsSurvey.id == ahead)
            .values(opens_at=clock.now() - timedelta(minutes=1))
        )
    async with database.session(write=False) as reading:
        assert await nps.has_unannounced(reading) is True
    early_bird = make_client()
    await login(early_bird, await member_factory(locale="en"))
    await early_bird.get("/")
    async with database.session(write=False) as reading:
        assert await nps.has_unannounced(reading) is False
    page = await voter.get("/notifications")
    assert "A survey is waiting for your answer: Later survey" in page.text
    assert await _kinds(database, fan) == ["survey", "survey"]


async def test_reward_decisions_tell_the_member_who_redeemed(
    client, make_client, database, member_factory, login
):
    operator = await member_factory(role=Role.operator)
    fan = await member_factory(locale="en")
    await give_points(database, fan, 300)
    await login(client, operator)
    made = await client.send_json(
        "POST",
        "/api/v1/rewards",
        {"name_en": "Tote bag", "name_ja": "トートバッグ", "cost": 100, "stock": 5},
    )
    reward_id = made.json()["id"]
    browser = make_client()
    await login(browser, fan)
    for _ in range(2):
        redeemed = await browser.send_json("POST", f"/api/v1/rewards/{reward_id}/redemptions")
        assert redeemed.status_code == 201
    first, second = sorted(r["id"] for r in (await browser.get("/api/v1/me/redemptions")).json())
    await client.send_json("POST", f"/api/v1/redemptions/{first}/fulfil")
    await client.send_json("POST", f"/api/v1/redemptions/{second}/refuse", {"note": "Sold out"})

    page = await browser.get("/notifications")
    assert "Your reward Tote bag is on its way" in page.text
    assert (
        "Your request for the reward Tote bag was declined; your points were returned" in page.text
    )
    assert "Sold out" in page.text
    items = (await browser.get("/api/v1/notifications")).json()["items"]
    opened = await browser.get(f"/notifications/{items[0]['id']}/open")
    assert opened.headers["location"] == "/rewards"
    assert await _kinds(database, operator) == []


async def test_a_lottery_tells_who_was_not_selected(
    client, make_client, database, member_factory, login
):
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", selection="lottery", capacity=1)
    browsers = []
    for name in ("Aoi", "Ren"):
        fan = await member_factory(name=name, locale="ja")
        browser = make_client()
        await login(browser, fan)
        entered = await browser.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
        assert entered.status_code == 201
        browsers.append(browser)
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/close")
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/draw", {})
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/announce")

    pages = [(await browser.get("/notifications")).text for browser in browsers]
    selected = [page for page in pages if "当選しました" in page]
    not_selected = [page for page in pages if "今回は落選となりました" in page]
    assert len(selected) == 1
    assert len(not_selected) == 1


async def test_settings_and_admin_link_to_notifications_tokens_and_webhooks(
    client, make_client, member_factory, login
):
    member = await member_factory(locale="en")
    await login(client, member)
    settings = await client.get("/settings")
    assert 'href="/settings/notifications"' in settings.text
    assert 'href="/settings/tokens"' in settings.text
    assert 'href="/integrations/webhooks"' not in settings.text  # operators only
    assert (await client.get("/settings/tokens")).status_code == 200

    admin = make_client()
    await login(admin, await member_factory(role=Role.admin, locale="ja"))
    index = await admin.get("/admin")
    assert 'href="/settings/tokens"' in index.text
    assert 'href="/integrations/webhooks"' in index.text
    assert "APIトークン" in index.text
    assert (await admin.get("/integrations/webhooks")).status_code == 200
    admin_settings = await admin.get("/settings")
    assert 'href="/integrations/webhooks"' in admin_settings.text
