"""Audience rules: outside the audience a campaign does not exist (404) in pages, the API,
search and notifications' audience; an operator's locked teaser is the only exception."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.campaigns import policy
from app.models import Campaign, Role
from tests.campaigns.helpers import (
    activities,
    campaign_payload,
    create_campaign,
    give_points,
    make_rank,
)


async def _sees(client: Any, campaign_id: int, title: str = "Try the new kettle") -> bool:
    """Whether the campaign shows up anywhere for this client; asserts the answers agree."""
    page = await client.get(f"/campaigns/{campaign_id}")
    api = await client.get(f"/api/v1/campaigns/{campaign_id}")
    listing = await client.get("/api/v1/campaigns")
    search = await client.get("/api/v1/campaigns", params={"q": "kettle"})
    html_list = await client.get("/campaigns")
    listed = [item["id"] for item in listing.json()["items"]]
    found = [item["id"] for item in search.json()["items"]]
    visible = page.status_code == 200
    assert (api.status_code == 200) == visible
    assert (campaign_id in listed) == visible
    assert (campaign_id in found) == visible
    assert (title in html_list.text) == visible
    if not visible:
        assert page.status_code == 404
        assert api.status_code == 404
    return bool(visible)


async def _audience_ids(database: Any, campaign_id: int) -> list[int]:
    async with database.transaction() as session:
        campaign = (
            await session.execute(select(Campaign).where(Campaign.id == campaign_id))
        ).scalar_one()
        return await policy.audience_member_ids(session, campaign)


async def test_everyone_sees_an_open_campaign_but_not_a_draft(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    fan = await member_factory()
    await login(client, operator)
    open_id = await create_campaign(client)
    draft_id = await create_campaign(client, open_now=False, title_en="Secret draft")
    fan_client = make_client()
    await login(fan_client, fan)
    assert await _sees(fan_client, open_id)
    assert not await _sees(fan_client, draft_id, "Secret draft")
    anonymous = make_client()
    assert not await _sees(anonymous, open_id)
    page = await fan_client.get(f"/campaigns/{open_id}")
    assert "<strong>what you think</strong>" in page.text
    assert fan.id in await _audience_ids(database, open_id)
    opened = await activities(database, "campaign.opened")
    assert [a.data["campaign_id"] for a in opened] == [open_id]


async def test_rank_audience_hides_the_campaign_from_lower_ranks(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    gold = await make_rank(database, "Gold", 500)
    high, low = await member_factory(), await member_factory()
    await give_points(database, high, 600)
    await give_points(database, low, 100)
    await login(client, operator)
    campaign_id = await create_campaign(client, audience="rank", audience_rank_id=gold)
    high_client, low_client = make_client(), make_client()
    await login(high_client, high)
    await login(low_client, low)
    assert await _sees(high_client, campaign_id)
    assert not await _sees(low_client, campaign_id)
    entry = await low_client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
    assert entry.status_code == 404
    audience = await _audience_ids(database, campaign_id)
    assert high.id in audience
    assert low.id not in audience
    # Climbing to the rank opens the campaign to the member.
    await give_points(database, low, 450)
    assert await _sees(low_client, campaign_id)


async def test_locked_teaser_shows_who_it_is_for_but_nothing_else(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    gold = await make_rank(database, "Gold", 500)
    low = await member_factory()
    await login(client, operator)
    campaign_id = await create_campaign(client, audience="rank", audience_rank_id=gold, teaser=True)
    low_client = make_client()
    await login(low_client, low)
    page = await low_client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert "for members of rank Gold and above" in page.text
    assert "what you think" not in page.text
    api = (await low_client.get(f"/api/v1/campaigns/{campaign_id}")).json()
    assert api["locked"] is True
    assert api["description_html"] is None
    listed = (await low_client.get("/api/v1/campaigns")).json()["items"]
    assert [item["locked"] for item in listed] == [True]
    # Search matches the title of a teaser, never its hidden description.
    hidden = await low_client.get("/api/v1/campaigns", params={"q": "think"})
    assert hidden.json()["items"] == []
    entry = await low_client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
    assert entry.status_code == 404
    assert low.id not in await _audience_ids(database, campaign_id)


async def test_invited_list(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    guest, other = await member_factory(), await member_factory()
    await login(client, operator)
    campaign_id = await create_campaign(client, audience="invited", open_now=False)
    bad = await client.send_json(
        "POST", f"/api/v1/campaigns/{campaign_id}/invites", {"handles": ["nobody-here"]}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "handles"
    invited = await client.send_json(
        "POST", f"/api/v1/campaigns/{campaign_id}/invites", {"handles": [guest.handle]}
    )
    assert invited.status_code == 204
    await client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/open")
    guest_client, other_client = make_client(), make_client()
    await login(guest_client, guest)
    await login(other_client, other)
    assert await _sees(guest_client, campaign_id)
    assert not await _sees(other_client, campaign_id)
    assert await _audience_ids(database, campaign_id) == [guest.id]


@pytest.mark.parametrize("kind", ["ambassadors", "candidates"])
async def test_ambassador_and_candidate_audiences(
    kind: str, client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    from app.models.analytics_member_score import AnalyticsMemberScore

    operator = await member_factory(role=Role.operator)
    ambassador, candidate, ordinary = (
        await member_factory(),
        await member_factory(),
        await member_factory(),
    )
    clients = []
    for member in (ambassador, candidate, ordinary):
        member_client = make_client()
        await login(member_client, member)
        # The day's first request records a visit, which analytics scores; set the status after.
        await member_client.get("/campaigns")
        clients.append((member, member_client))
    async with database.transaction() as session:
        await session.merge(
            AnalyticsMemberScore(
                member_id=ambassador.id, detection="ambassador", ambassador_status="confirmed"
            )
        )
        await session.merge(AnalyticsMemberScore(member_id=candidate.id, detection="candidate"))
    await login(client, operator)
    campaign_id = await create_campaign(client, audience=kind)
    expected = ambassador if kind == "ambassadors" else candidate
    for member, member_client in clients:
        assert await _sees(member_client, campaign_id) == (member.id == expected.id)
    assert await _audience_ids(database, campaign_id) == [expected.id]


async def test_ask_fatigue_leaves_out_members_asked_too_often(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    busy, fresh = await member_factory(), await member_factory()
    await login(client, operator)
    for number in range(2):
        first = await create_campaign(
            client, open_now=False, audience="invited", title_en=f"Earlier {number}"
        )
        await client.send_json(
            "POST", f"/api/v1/campaigns/{first}/invites", {"handles": [busy.handle]}
        )
        await client.send_json("POST", f"/api/v1/campaigns/{first}/open")
    campaign_id = await create_campaign(client, fatigue_limit=1, fatigue_days=30)
    busy_client, fresh_client = make_client(), make_client()
    await login(busy_client, busy)
    await login(fresh_client, fresh)
    assert not await _sees(busy_client, campaign_id)
    assert await _sees(fresh_client, campaign_id)
    audience = await _audience_ids(database, campaign_id)
    assert fresh.id in audience
    assert busy.id not in audience
    # The audience view shows how often each member was asked and entered recently.
    unlimited = await create_campaign(client, title_en="Everyone again")
    view = await client.get(f"/ops/campaigns/{unlimited}/audience")
    assert view.status_code == 200
    row = view.text.split(f"/u/{busy.handle}")[1].split("</tr>")[0]
    assert '<td class="count">3</td><td class="count">0</td>' in row


async def test_members_cannot_reach_operator_pages(
    client: Any, member_factory: Any, login: Any
) -> None:
    await login(client, await member_factory())
    assert (await client.get("/ops/campaigns")).status_code == 403
    response = await client.send_json("POST", "/api/v1/campaigns", {"title_en": "x"})
    assert response.status_code == 403


async def test_saved_segment_audience(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    from app.models import AnalyticsSegment

    operator = await member_factory(role=Role.operator)
    keen, casual = await member_factory(), await member_factory()
    await give_points(database, keen, 150)
    async with database.transaction() as session:
        segment = AnalyticsSegment(name="Keen fans", filters={"min_points": 100})
        session.add(segment)
        await session.flush()
        segment_id = segment.id
    await login(client, operator)
    missing = await client.send_json(
        "POST", "/api/v1/campaigns", {**campaign_payload(), "audience": "segment"}
    )
    assert missing.status_code == 422
    campaign_id = await create_campaign(client, audience="segment", audience_segment_id=segment_id)
    keen_client, casual_client = make_client(), make_client()
    await login(keen_client, keen)
    await login(casual_client, casual)
    assert await _sees(keen_client, campaign_id)
    assert not await _sees(casual_client, campaign_id)
    assert await _audience_ids(database, campaign_id) == [keen.id]
