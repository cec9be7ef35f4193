"""Each campaign type end to end: application, post (with photos), survey (NPS), event."""

from __future__ import annotations

from typing import Any

from app.models import Role
from tests.campaigns.helpers import activities, create_campaign
from tests.uploads.images import image_bytes

QUESTIONS = [
    {"kind": "text", "prompt_en": "Why do you want to try it?"},
    {"kind": "choice", "prompt_en": "Colour", "choices": ["Red", "Blue"]},
    {"kind": "yes_no", "prompt_en": "Can you post a photo?", "required": False},
]


async def test_application_with_questions(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator, fan = await member_factory(role=Role.operator), await member_factory()
    await login(client, operator)
    campaign_id = await create_campaign(client, questions=QUESTIONS)
    fan_client = make_client()
    await login(fan_client, fan)
    campaign = (await fan_client.get(f"/api/v1/campaigns/{campaign_id}")).json()
    text_id, choice_id, yes_id = (str(q["id"]) for q in campaign["questions"])
    url = f"/api/v1/campaigns/{campaign_id}/entries"
    missing = await fan_client.send_json("POST", url, {"answers": {choice_id: "Red"}})
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == f"answers.{text_id}"
    wrong = await fan_client.send_json(
        "POST", url, {"answers": {text_id: "I love tea", choice_id: "Green"}}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == f"answers.{choice_id}"
    # The page form: the same checks, shown next to the question.
    page = await fan_client.submit(
        f"/campaigns/{campaign_id}/enter", {f"answer_{choice_id}": "Red"}
    )
    assert page.status_code == 422
    assert "Please answer this question." in page.text
    done = await fan_client.submit(
        f"/campaigns/{campaign_id}/enter",
        {
            f"answer_{text_id}": "I love tea",
            f"answer_{choice_id}": "Blue",
            f"answer_{yes_id}": "yes",
        },
    )
    assert done.status_code == 303
    mine = (await fan_client.get(f"{url}/me")).json()
    assert mine["answers"] == {text_id: "I love tea", choice_id: "Blue", yes_id: True}
    again = await fan_client.send_json(
        "POST", url, {"answers": {text_id: "Twice", choice_id: "Red"}}
    )
    assert again.status_code == 409
    entered = await activities(database, "campaign.entered")
    assert [(a.actor_id, a.data["campaign_id"]) for a in entered] == [(fan.id, campaign_id)]
    page = await fan_client.get(f"/campaigns/{campaign_id}")
    assert "Your entry" in page.text


async def test_post_campaign_with_photos_and_gallery(
    client: Any, make_client: Any, member_factory: Any, login: Any
) -> None:
    operator, fan, other = (
        await member_factory(role=Role.operator),
        await member_factory(),
        await member_factory(),
    )
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="post", title_en="Show us your kettle")
    fan_client, other_client = make_client(), make_client()
    await login(fan_client, fan)
    await login(other_client, other)
    # Photos through the page form, stored by the uploads service.
    response = await fan_client.post(
        f"/campaigns/{campaign_id}/enter",
        data={"body": "Morning tea on the balcony", "csrf_token": await fan_client.csrf_token()},
        files=[("photos", ("tea.png", image_bytes("PNG"), "image/png"))],
    )
    assert response.status_code == 303, response.text
    # Through the API, with an upload id; someone else's upload is refused.
    upload = await other_client.post(
        "/api/v1/uploads",
        files={"file": ("x.jpg", image_bytes("JPEG"), "image/jpeg")},
        headers={"X-CSRF-Token": await other_client.csrf_token()},
    )
    assert upload.status_code == 201
    upload_id = upload.json()["id"]
    empty = await other_client.send_json(
        "POST", f"/api/v1/campaigns/{campaign_id}/entries", {"body": " "}
    )
    assert empty.status_code == 422
    assert empty.json()["error"]["field"] == "body"
    entry = await other_client.send_json(
        "POST",
        f"/api/v1/campaigns/{campaign_id}/entries",
        {"body": "My kettle", "photo_upload_ids": [upload_id]},
    )
    assert entry.status_code == 201, entry.text
    assert entry.json()["photo_urls"][0].startswith("/uploads/")
    gallery = await client.get(f"/campaigns/{campaign_id}")
    assert "Morning tea on the balcony" in gallery.text
    assert "My kettle" in gallery.text
    assert gallery.text.count('class="campaign-photo"') == 2


async def test_survey_with_nps_question(
    client: Any, make_client: Any, member_factory: Any, login: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    campaign_id = await create_campaign(
        client,
        kind="survey",
        questions=[
            {"kind": "nps", "prompt_en": "How likely are you to recommend us?"},
            {"kind": "text", "prompt_en": "Why?", "required": False},
        ],
    )
    question_id = str(
        (await client.get(f"/api/v1/campaigns/{campaign_id}")).json()["questions"][0]["id"]
    )
    for score in (10, 9, 8, 3):
        fan_client = make_client()
        await login(fan_client, await member_factory())
        bad = await fan_client.send_json(
            "POST", f"/api/v1/campaigns/{campaign_id}/entries", {"answers": {question_id: 11}}
        )
        assert bad.status_code == 422
        ok = await fan_client.send_json(
            "POST", f"/api/v1/campaigns/{campaign_id}/entries", {"answers": {question_id: score}}
        )
        assert ok.status_code == 201
    report = (await client.get(f"/api/v1/campaigns/{campaign_id}/report")).json()
    # 2 promoters, 1 passive, 1 detractor of 4: 50% - 25% = +25.
    assert report["nps"] == 25.0
    assert report["nps_responses"] == 4


async def test_event_rsvp_with_capacity_then_attendance(
    client: Any, make_client: Any, member_factory: Any, login: Any, database: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    campaign_id = await create_campaign(client, kind="event", capacity=2, title_en="Meet-up")
    fans = [await member_factory() for _ in range(3)]
    results = []
    for fan in fans:
        fan_client = make_client()
        await login(fan_client, fan)
        results.append(
            await fan_client.send_json("POST", f"/api/v1/campaigns/{campaign_id}/entries", {})
        )
    assert [r.status_code for r in results] == [201, 201, 409]
    assert results[2].json()["error"]["message"] == "Sorry, this campaign is full."
    assert [r.json()["status"] for r in results[:2]] == ["selected", "selected"]
    selected = await activities(database, "campaign.selected")
    assert sorted(a.actor_id or 0 for a in selected) == sorted(f.id for f in fans[:2])
    first, second = (r.json()["id"] for r in results[:2])
    marked = await client.submit(
        f"/ops/campaigns/{campaign_id}/attendance",
        {"entry": [str(first), str(second)], "attended": [str(first)]},
    )
    assert marked.status_code == 303
    entries = (await client.get(f"/api/v1/campaigns/{campaign_id}/entries")).json()
    assert [e["attended"] for e in entries] == [True, False]
    assert [a.actor_id for a in await activities(database, "campaign.attended")] == [fans[0].id]
    report = (await client.get(f"/api/v1/campaigns/{campaign_id}/report")).json()
    assert report["attended"] == 1
    assert report["winners"] == 2


async def test_operator_pages_create_open_and_members_read_in_japanese(
    client: Any, make_client: Any, member_factory: Any, login: Any
) -> None:
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    form = {
        "title_en": "Tea survey",
        "title_ja": "お茶アンケート",
        "description_en": "Help us choose.",
        "kind": "survey",
        "starts_at": "2020-01-01T09:00",
        "ends_at": "2020-01-01T08:00",
        "audience": "everyone",
        "selection": "first_come",
        "fatigue_days": "30",
        "q0_kind": "choice",
        "q0_prompt_en": "Green or black?",
        "q0_prompt_ja": "緑茶と紅茶、どちら？",
        "q0_choices": "Green\nBlack",
        "q0_required": "on",
    }
    wrong = await client.submit("/ops/campaigns/new", form)
    assert wrong.status_code == 422
    assert "The end must be after the start." in wrong.text
    created = await client.submit("/ops/campaigns/new", {**form, "ends_at": "2099-01-01T08:00"})
    assert created.status_code == 303
    manage_url = created.headers["location"]
    campaign_id = int(manage_url.rsplit("/", 1)[1])
    opened = await client.submit(f"/ops/campaigns/{campaign_id}/state/open")
    assert opened.status_code == 303
    twice = await client.submit(f"/ops/campaigns/{campaign_id}/state/open")
    assert twice.status_code == 409
    fan_client = make_client()
    fan_client.headers["Accept-Language"] = "ja"
    await login(fan_client, await member_factory())
    page = await fan_client.get(f"/campaigns/{campaign_id}")
    assert "お茶アンケート" in page.text
    assert "緑茶と紅茶、どちら？" in page.text
    assert "アンケートに回答する" in page.text
