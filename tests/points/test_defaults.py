"""The documented default rules for campaigns, events, reviews and surveys; the verbs that can
never pay; and how members see all of it on /points and /points/guide."""

from __future__ import annotations

import re
from typing import Any

from app.activity import verbs
from app.models import PointRule, Role
from app.points import policy
from tests.campaigns.helpers import create_campaign, member_row
from tests.points.conftest import act

NEW_DEFAULTS = {
    verbs.CAMPAIGN_ENTERED: (3, None),
    verbs.CAMPAIGN_SELECTED: (10, None),
    verbs.CAMPAIGN_ATTENDED: (10, None),
    verbs.REVIEW_CREATED: (3, 9),
    verbs.SURVEY_ANSWERED: (2, None),
}


def _ledger_reasons(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td>([^<]+)</td>", html)]


async def test_guide_lists_the_new_defaults(client: Any) -> None:
    page = await client.get("/points/guide")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    for label, points in (
        ("Entering a campaign", 3),
        ("Selected in a campaign", 10),
        ("Attending an event", 10),
        ("Reviewing a product", 3),
        ("Answering a survey", 2),
    ):
        assert f'<td>{label}</td><td class="num">+{points}</td>' in text
    assert '<td>Reviewing a product</td><td class="num">+3</td><td>up to 9 a day</td>' in text
    rules = (await client.get("/api/v1/points/rules")).json()
    by_verb = {rule["verb"]: rule for rule in rules}
    for verb, (points, cap) in NEW_DEFAULTS.items():
        assert (by_verb[verb]["actor_points"], by_verb[verb]["daily_cap"]) == (points, cap)


async def test_bookkeeping_verbs_are_never_offered_and_never_pay(
    client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    admin = await member_factory(role=Role.admin)
    fan = await member_factory()
    await login(client, admin)
    page = await client.get("/admin/points")
    assert page.status_code == 200
    offered = set(re.findall(r'<option value="([a-z_.]+)"', page.text))
    for verb in (
        verbs.CAMPAIGN_OPENED,
        verbs.CAMPAIGN_NOT_SELECTED,
        verbs.REWARD_REDEEMED,
        verbs.REWARD_FULFILLED,
        verbs.REWARD_REFUSED,
        verbs.AMBASSADOR_CONFIRMED,
        verbs.MEMBER_IMPORTED,
        verbs.MEMBER_WARNED,
    ):
        assert verb not in offered
        refused = await client.send_json(
            "PUT",
            f"/api/v1/points/rules/{verb}",
            {"actor_points": 50, "recipient_points": 50, "enabled": True},
        )
        assert refused.status_code == 422, verb
        assert refused.json()["error"]["field"] == "verb"
    # A rule left in the table from before (it could be attached once) neither pays nor shows.
    async with database.transaction() as session:
        session.add(PointRule(verb=verbs.AMBASSADOR_CONFIRMED, recipient_points=100, position=99))
    await act(database, verbs.AMBASSADOR_CONFIRMED, admin, fan, subject=("member", fan.id))
    assert (await member_row(database, fan.id)).lifetime_points == 10  # the welcome bonus only
    guide = await client.get("/points/guide")
    assert "ambassador.confirmed" not in guide.text
    unlabelled = [verb for verb in policy.payable_verbs() if verb not in policy.KIND_LABELS]
    assert unlabelled == [], "label these in app/points/policy.py or mark them UNPAYABLE"


async def test_campaign_review_and_reward_rows_on_my_points(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", capacity=5)
    product = await client.send_json("POST", "/api/v1/products", {"name_en": "Kettle K1"})
    reward = await client.send_json(
        "POST", "/api/v1/rewards", {"name_en": "Tote bag", "cost": 20, "stock": 5}
    )
    fan_client = make_client()
    await login(fan_client, fan)
    entered = await fan_client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
    assert entered.status_code == 201
    # First come: the seat is a selection. Welcome 10, the day's visit 1, entering 3, selected 10.
    assert (await member_row(database, fan.id)).lifetime_points == 24
    entry_id = entered.json()["id"]
    marked = await client.submit(
        f"/ops/campaigns/{campaign_id}/attendance",
        {"entry": [str(entry_id)], "attended": [str(entry_id)]},
    )
    assert marked.status_code == 303
    review_url = f"/api/v1/products/{product.json()['id']}/review"
    for body in ("Boils fast", "Boils fast, and quietly"):  # editing pays nothing more
        saved = await fan_client.send_json("PUT", review_url, {"rating": 5, "body": body})
        assert saved.status_code in (200, 201), saved.text
    assert (await member_row(database, fan.id)).lifetime_points == 37
    redeemed = await fan_client.send_json(
        "POST", f"/api/v1/rewards/{reward.json()['id']}/redemptions"
    )
    assert redeemed.status_code == 201
    refused = await client.send_json(
        "POST", f"/api/v1/redemptions/{redeemed.json()['id']}/refuse", {"note": "Sold out"}
    )
    assert refused.status_code == 200
    member = await member_row(database, fan.id)
    assert (member.lifetime_points, member.spendable_points) == (37, 37)

    page = await fan_client.get("/points")
    reasons = _ledger_reasons(page.text)
    assert "Refund for a refused reward — Sold out" in reasons
    assert "Reward redeemed — Tote bag" in reasons
    for label in (
        "Reviewing a product",
        "Attending an event",
        "Selected in a campaign",
        "Entering a campaign",
    ):
        assert label in reasons
    assert not any(reason.startswith(("reward.", "campaign.", "review.")) for reason in reasons)
    ja = await fan_client.get("/points", headers={"Accept-Language": "ja"})
    assert "キャンペーンへの応募" in ja.text
    assert "特典の交換" in ja.text


async def test_survey_answer_pays_the_same_for_every_score(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    critic, fan = await member_factory(), await member_factory()
    for member, score in ((critic, 0), (fan, 10)):
        await act(
            database,
            verbs.SURVEY_ANSWERED,
            member,
            subject=("survey", 1),
            data={"score": score},
            dedupe_key=f"survey:1:{member.id}",
        )
    assert (await member_row(database, critic.id)).lifetime_points == 12
    assert (await member_row(database, fan.id)).lifetime_points == 12


async def test_reviews_stop_paying_at_the_daily_cap(member_factory: Any, database: Any) -> None:
    fan = await member_factory()
    for product_id in range(1, 6):
        await act(
            database,
            verbs.REVIEW_CREATED,
            fan,
            subject=("product_review", product_id),
            dedupe_key=f"review.created:{product_id}:{fan.id}",
        )
    assert (await member_row(database, fan.id)).lifetime_points == 10 + 9
