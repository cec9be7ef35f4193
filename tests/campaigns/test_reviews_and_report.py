"""Product reviews (averages, one per member) and campaign analytics on a small fixed data set."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from app.activity.service import record
from app.kit import clock
from app.models import Role
from tests.campaigns.helpers import activities, create_campaign


async def test_reviews_average_distribution_and_one_per_member(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    created = await client.send_json("POST", "/api/v1/products", {"name_en": "Kettle K1"})
    assert created.status_code == 201
    product_id = created.json()["id"]
    fans = [await member_factory() for _ in range(3)]
    for fan, rating in zip(fans, (5, 4, 4), strict=True):
        fan_client = make_client()
        await login(fan_client, fan)
        response = await fan_client.send_json(
            "PUT", f"/api/v1/products/{product_id}/review", {"rating": rating, "body": "Good"}
        )
        assert response.status_code == 200
    # The first member edits their review: still one review, no second activity.
    editor = make_client()
    await login(editor, fans[0])
    edited = await editor.submit(f"/products/{product_id}/review", {"rating": "1", "body": "Broke"})
    assert edited.status_code == 303
    bad = await editor.submit(f"/products/{product_id}/review", {"rating": "6", "body": ""})
    assert bad.status_code == 422
    product = (await client.get(f"/api/v1/products/{product_id}")).json()
    assert product["reviews"] == 3
    assert product["average"] == 3.0
    assert product["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 0}
    page = await client.get(f"/products/{product_id}")
    assert "Broke" in page.text
    assert "3.0" in page.text
    assert len(await activities(database, "review.created")) == 3
    hidden = await client.send_json(
        "PUT", f"/api/v1/products/{product_id}", {"name_en": "Kettle K1", "active": False}
    )
    assert hidden.status_code == 200
    assert (await editor.get(f"/products/{product_id}")).status_code == 404


async def test_campaign_report_and_csv(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    from app.models.analytics_member_score import AnalyticsMemberScore

    operator = await member_factory(role=Role.operator)
    members = [await member_factory(name=f"Fan {n}") for n in range(4)]
    clients = []
    for member in members:
        member_client = make_client()
        await login(member_client, member)
        await member_client.get("/campaigns")  # the day's visit, before statuses are set
        clients.append(member_client)
    async with database.transaction() as session:
        # Participant activity: two actions in the 30 days before the campaign.
        for days in (3, 10):
            await record(
                session,
                "topic.created",
                actor_id=members[0].id,
                occurred_at=clock.now() - timedelta(days=days),
            )
    await login(client, operator)
    campaign_id = await create_campaign(
        client,
        questions=[{"kind": "text", "prompt_en": "Your idea"}],
        title_en="Ideas",
    )
    question_id = str(
        (await client.get(f"/api/v1/campaigns/{campaign_id}")).json()["questions"][0]["id"]
    )
    await clients[2].get(f"/campaigns/{campaign_id}")  # views without entering
    for member_client, answer in ((clients[0], '=HYPERLINK("x")'), (clients[1], "@cmd")):
        response = await member_client.send_json(
            "POST", f"/api/v1/campaigns/{campaign_id}/entries", {"answers": {question_id: answer}}
        )
        assert response.status_code == 201
    # Statuses as analytics sees them now (its detector re-scores members as they act).
    async with database.transaction() as session:
        await session.merge(
            AnalyticsMemberScore(member_id=members[0].id, ambassador_status="confirmed")
        )
        await session.merge(AnalyticsMemberScore(member_id=members[1].id, detection="candidate"))
    report = (await client.get(f"/api/v1/campaigns/{campaign_id}/report")).json()
    assert report["audience"] == 5  # four fans and the operator
    assert report["entries"] == 2
    assert report["entry_rate"] == 0.4
    assert report["views"] == 1
    # Two topics, plus each participant's sign-up and first visit; nothing after the close yet.
    joined = len(await activities(database, "member.signed_up"))
    visits = len(await activities(database, "member.visited"))
    assert joined == 5
    assert visits == 5
    assert report["activity_before"] == 2 + 2 + 2
    assert report["activity_after"] == 0
    groups = {group["group"]: group for group in report["groups"]}
    assert groups["ambassadors"] == {
        "group": "ambassadors",
        "audience": 1,
        "entries": 1,
        "rate": 1.0,
    }
    assert groups["candidates"] == {"group": "candidates", "audience": 1, "entries": 1, "rate": 1.0}
    assert groups["others"]["audience"] == 3
    assert groups["others"]["entries"] == 0
    page = await client.get(f"/ops/campaigns/{campaign_id}/report")
    assert page.status_code == 200
    assert "40.0%" in page.text
    exported = await client.get(f"/ops/campaigns/{campaign_id}/entries.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][-1] == "Your idea"
    assert [row[-1] for row in rows[1:]] == ['\'=HYPERLINK("x")', "'@cmd"]
    assert (await clients[3].get(f"/ops/campaigns/{campaign_id}/entries.csv")).status_code == 403
