"""NPS surveys: creation, the audience, answering once, results with margin and breakdowns."""

from __future__ import annotations

import pytest

from app.kit import clock
from app.models import Role


async def _survey(client, **overrides):
    today = clock.community_day().isoformat()
    payload = {
        "title": "Spring",
        "subject": "Kizuna Coffee",
        "reason_question": "Why?",
        "extra_questions": ["Favourite product?"],
        "audience": "everyone",
        "opens_on": today,
        "closes_on": today,
        **overrides,
    }
    response = await client.send_json("POST", "/api/v1/ops/surveys", payload)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_members_answer_once_and_results_show_nps_and_margin(
    client, make_client, member_factory, login
):
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    survey_id = await _survey(client)
    scores = [10, 10, 9, 9, 8, 7, 6, 5, 0, 10]
    for i, score in enumerate(scores):
        browser = make_client()
        member = await member_factory(name=f"Voter {i}")
        await login(browser, member)
        listing = await browser.get("/surveys")
        assert f"/surveys/{survey_id}" in listing.text
        form = await browser.get(f"/surveys/{survey_id}")
        assert "How likely are you to recommend Kizuna Coffee to a friend?" in form.text
        answer = await browser.submit(
            f"/surveys/{survey_id}",
            {"score": str(score), "reason": f"=reason {i}", "extra_0": "Beans"},
        )
        assert answer.status_code == 303
        again = await browser.send_json(
            "POST", f"/api/v1/surveys/{survey_id}/responses", {"score": 3}
        )
        assert again.status_code == 409
        assert f"/surveys/{survey_id}" not in (await browser.get("/surveys")).text

    results = (await client.get(f"/api/v1/ops/surveys/{survey_id}/results")).json()["result"]
    assert results["responses"] == 10
    assert results["nps"] == pytest.approx(20.0)
    assert results["margin_of_error"] == pytest.approx(54.03, abs=0.01)
    assert results["low_sample"] is True
    assert results["shares"]["detractor"] == pytest.approx(30.0)
    page = await client.get(f"/ops/surveys/{survey_id}")
    assert "±54.0" in page.text
    assert "Only 10 responses" in page.text
    detractors = await client.get(f"/ops/surveys/{survey_id}?category=detractor")
    assert "=reason 6" in detractors.text
    assert "=reason 0" not in detractors.text
    csv = await client.get(f"/ops/surveys/{survey_id}/responses.csv")
    assert "'=reason 6" in csv.text
    assert "Beans" in csv.text
    trend = (await client.get("/api/v1/ops/surveys")).json()["surveys"]
    assert trend[0]["result"]["nps"] == pytest.approx(20.0)


async def test_audience_limits_who_sees_the_survey(client, make_client, member_factory, login):
    operator = await member_factory(role=Role.operator)
    await login(client, operator)
    segment = await client.send_json(
        "POST", "/api/v1/ops/segments", {"name": "Promoters", "filters": {"nps": "promoter"}}
    )
    assert segment.status_code == 201
    survey_id = await _survey(client, audience="segment", segment_id=segment.json()["id"])
    outsider = make_client()
    await login(outsider, await member_factory())
    assert (await outsider.get(f"/surveys/{survey_id}")).status_code == 404
    assert (
        await outsider.send_json("POST", f"/api/v1/surveys/{survey_id}/responses", {"score": 9})
    ).status_code == 404
    # Staff are not part of any audience either.
    assert (await client.get(f"/surveys/{survey_id}")).status_code == 404
    missing = await client.send_json(
        "POST",
        "/api/v1/ops/surveys",
        {
            "title": "x",
            "subject": "y",
            "reason_question": "z",
            "audience": "segment",
            "opens_on": "2026-01-01",
            "closes_on": "2026-01-02",
        },
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "segment_id"
    backwards = await client.submit(
        "/ops/surveys",
        {
            "title": "x",
            "subject": "y",
            "reason_question": "z",
            "audience": "everyone",
            "opens_on": "2026-01-05",
            "closes_on": "2026-01-02",
        },
    )
    assert backwards.status_code == 422
    assert "The survey must close on or after the day it opens." in backwards.text


async def test_closed_survey_refuses_answers(client, make_client, member_factory, login):
    await login(client, await member_factory(role=Role.operator))
    survey_id = await _survey(client)
    assert (await client.submit(f"/ops/surveys/{survey_id}/close")).status_code == 303
    member = make_client()
    await login(member, await member_factory())
    assert "This survey is closed." in (await member.get(f"/surveys/{survey_id}")).text
    refused = await member.send_json("POST", f"/api/v1/surveys/{survey_id}/responses", {"score": 9})
    assert refused.status_code == 409
    bad = await member.send_json("POST", f"/api/v1/surveys/{survey_id}/responses", {"score": 11})
    assert bad.status_code == 422
