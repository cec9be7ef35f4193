"""Ambassador detection with explanations, candidates, reviews and their history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.kit import clock
from app.models import Activity, Member, Role
from tests.analytics.community import days_ago, record


async def _star_and_fans(member_factory, database):
    star = await member_factory(name="Star")
    fans = [await member_factory(name=f"Fan {i}") for i in range(5)]
    for age in (1, 2, 3):
        await record(
            database,
            "post.created",
            star,
            days_ago(age),
            subject=("post", age),
            data={"topic_id": 1},
        )
    for i, fan in enumerate(fans):
        await record(
            database,
            "like.given",
            fan,
            days_ago(0),
            recipient_id=star.id,
            subject=("post", 1),
            data={"topic_id": 1},
        )
        assert i < 5
    return star, fans


def _criteria(body):
    return {entry["criterion"]: entry for entry in body["explanation"]}


async def test_detected_ambassador_is_flagged_and_explains_itself(
    client, member_factory, login, database
):
    star, fans = await _star_and_fans(member_factory, database)
    operator = await member_factory(role=Role.operator, name="Op")
    await login(client, operator)

    body = (await client.get(f"/api/v1/ops/members/{star.id}")).json()
    assert body["detection"] == "ambassador"
    assert body["ambassador_status"] == "flagged"
    criteria = _criteria(body)
    assert criteria["decile"] == {"criterion": "decile", "value": 1, "threshold": 1, "met": True}
    assert criteria["active"]["value"] == 0
    assert criteria["active"]["threshold"] == 30
    assert criteria["reach"] == {"criterion": "reach", "value": 5, "threshold": 5, "met": True}
    assert criteria["nps"]["met"]
    assert criteria["nps"]["value"] is None
    assert criteria["standing"]["met"]
    assert body["history"][0]["to"] == "flagged"
    assert body["history"][0]["by"] is None

    # A fan meets neither the decile nor the reach criterion: not even a candidate.
    fan_body = (await client.get(f"/api/v1/ops/members/{fans[0].id}")).json()
    assert fan_body["detection"] == ""
    assert {k for k, v in _criteria(fan_body).items() if not v["met"]} == {"decile", "reach"}

    page = await client.get("/ops/ambassadors")
    assert "Flagged for review (1)" in page.text
    assert "Reach: 5 members" in page.text
    async with database.transaction(write=False) as session:
        verbs = set(
            (
                await session.execute(select(Activity.verb).where(Activity.recipient_id == star.id))
            ).scalars()
        )
    assert "ambassador.flagged" in verbs


async def test_confirm_dismiss_history_and_badge(client, member_factory, login, database):
    star, _fans = await _star_and_fans(member_factory, database)
    operator = await member_factory(role=Role.operator, name="Op Sato")
    await login(client, operator)

    refused = await client.send_json(
        "POST", f"/api/v1/ops/members/{star.id}/ambassador", {"decision": "dismissed"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "note"

    dismissed = await client.submit(
        f"/ops/members/{star.id}/ambassador",
        {"decision": "dismissed", "note": "Works for the brand"},
    )
    assert dismissed.status_code == 303
    confirmed = await client.send_json(
        "POST",
        f"/api/v1/ops/members/{star.id}/ambassador",
        {"decision": "confirmed", "note": "Checked again"},
    )
    assert confirmed.json()["ambassador_status"] == "confirmed"

    body = (await client.get(f"/api/v1/ops/members/{star.id}")).json()
    assert [(h["from"], h["to"], h["by"], h["note"]) for h in body["history"]] == [
        ("dismissed", "confirmed", "Op Sato", "Checked again"),
        ("flagged", "dismissed", "Op Sato", "Works for the brand"),
        ("", "flagged", None, ""),
    ]
    page = await client.get(f"/ops/members/{star.id}")
    assert "Checked again" in page.text
    assert "the detector" in page.text
    # The badge shows next to the name wherever member_link is used.
    listing = await client.get("/ops/members")
    assert 'ambassador-badge">Ambassador<' in listing.text

    # Admins relabel (or hide) the badge; confirmed members follow at once.
    admin = await member_factory(role=Role.admin)
    await login(client, admin)
    form = {
        "top_deciles": "1",
        "active_days": "30",
        "min_reach": "5",
        "monthly_decay_percent": "10",
        "exclude_detractors": "on",
        "badge_enabled": "on",
        "badge_label": "公式アンバサダー",
    }
    assert (await client.submit("/ops/settings", form)).status_code == 303
    async with database.transaction(write=False) as session:
        assert (await session.get(Member, star.id)).ambassador_badge == "公式アンバサダー"
    async with database.transaction(write=False) as session:
        verbs = list(
            (
                await session.execute(
                    select(Activity.verb)
                    .where(Activity.recipient_id == star.id, Activity.verb.like("ambassador.%"))
                    .order_by(Activity.id)
                )
            ).scalars()
        )
    assert verbs == ["ambassador.flagged", "ambassador.dismissed", "ambassador.confirmed"]


async def test_candidate_misses_exactly_one_criterion(client, member_factory, login, database):
    star, _fans = await _star_and_fans(member_factory, database)
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    # A detractor answer makes the star a candidate and withdraws the unreviewed flag.
    await record(
        database, "survey.answered", star, clock.now(), subject=("survey", 1), data={"score": 3}
    )
    body = (await client.get(f"/api/v1/ops/members/{star.id}")).json()
    assert body["detection"] == "candidate"
    assert body["ambassador_status"] == ""
    unmet = [e for e in body["explanation"] if not e["met"]]
    assert unmet == [
        {"criterion": "nps", "value": 3, "threshold": 7, "met": False, "promoter": False}
    ]
    assert body["history"][0] == {**body["history"][0], "from": "flagged", "to": ""}
    page = await client.get("/ops/ambassadors")
    assert "Candidates (1)" in page.text

    # A promoter answer strengthens the case; silencing takes it away again (after recompute).
    await record(
        database,
        "survey.answered",
        star,
        clock.now() + timedelta(seconds=1),
        subject=("survey", 2),
        data={"score": 10},
    )
    body = (await client.get(f"/api/v1/ops/members/{star.id}")).json()
    assert body["detection"] == "ambassador"
    assert _criteria(body)["nps"]["promoter"] is True
    async with database.transaction() as session:
        await session.execute(
            update(Member)
            .where(Member.id == star.id)
            .values(silenced_until=clock.now() + timedelta(days=3))
        )
    await client.submit("/ops/recompute")
    body = (await client.get(f"/api/v1/ops/members/{star.id}")).json()
    assert body["detection"] == "candidate"
    assert _criteria(body)["standing"] == {
        "criterion": "standing",
        "value": "silenced",
        "threshold": "ok",
        "met": False,
    }


async def test_only_admins_change_the_criteria(client, member_factory, login):
    await login(client, await member_factory(role=Role.operator))
    page = await client.get("/ops/settings")
    assert page.status_code == 200
    assert "Only admins can change these settings." in page.text
    denied = await client.submit("/ops/settings", {"top_deciles": "2"})
    assert denied.status_code == 403
    await login(client, await member_factory(role=Role.admin))
    bad = await client.submit(
        "/ops/settings",
        {"top_deciles": "11", "active_days": "30", "min_reach": "5", "monthly_decay_percent": "10"},
    )
    assert bad.status_code == 422
    assert "Must be at most 10." in bad.text
