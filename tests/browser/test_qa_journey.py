"""Journey: a member asks in the Q&A category, another answers, the asker accepts the answer.
The answer is marked accepted, the question solved, and the answerer's points go up (live in
the header, then in their points history); the solved question reads in Japanese."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import open_live, start_topic, unique, use_language

ACCEPTED_ANSWER_POINTS = 15  # app/points/policy.py, DEFAULT_RULES: answer.accepted recipient


async def test_ask_answer_accept(community):
    asker = await community.join("Asker")
    helper = await community.join("Answerer")
    question = unique("How do I descale the kettle?")
    address = await start_topic(community, asker, "Questions (Q&A)", question)
    await expect(asker.page.locator(".topic-meta .badge.question")).to_have_text("Unsolved")

    answer = f"Boil water with citric acid, then rinse twice ({unique('answer')})."
    await helper.page.goto(address)
    await expect(helper.page.locator("#reply h2")).to_have_text("Your answer")
    await helper.page.fill("#reply #f-body", answer)
    await helper.page.click("#reply button[type=submit]")
    answer_post = helper.page.locator("#posts article.post", has_text=answer)
    await expect(answer_post).to_be_visible()
    # The answerer keeps the question open, connected for live updates.
    await open_live(helper.page, address)
    points_before = await helper.points()

    await asker.page.goto(address)
    accepted = asker.page.locator("#posts article.post", has_text=answer)
    await accepted.get_by_role("button", name="Accept this answer").click()
    await expect(accepted.locator(".badge.solved")).to_have_text("Accepted answer")
    await expect(accepted).to_have_class("post accepted")
    await expect(asker.page.locator(".topic-meta .badge.solved")).to_have_text("Solved")
    await expect(accepted.get_by_role("button", name="Unaccept")).to_be_visible()

    # The answerer's header chip grows without a reload, and the history says why.
    await expect(helper.page.locator(".points-chip [data-points=lifetime]")).to_have_text(
        str(points_before + ACCEPTED_ANSWER_POINTS)
    )
    await helper.page.click(".points-chip")
    await expect(helper.page.locator("main")).to_contain_text("Accepted answer")
    await expect(helper.page.locator("main")).to_contain_text(f"+{ACCEPTED_ANSWER_POINTS}")

    # The solved question in Japanese, as the answerer sees it.
    await helper.page.goto(address)
    await use_language(helper.page, "ja")
    await expect(helper.page.locator(".topic-meta .badge.solved")).to_have_text("解決済み")
    await expect(
        helper.page.locator("#posts article.post", has_text=answer).locator(".badge.solved")
    ).to_have_text("ベストアンサーに選ばれた")

    # In the topic list the question shows as solved too.
    await asker.page.goto(community.url("/"))
    row = asker.page.locator("tr.topic-row", has_text=question)
    await expect(row.locator(".badge.solved")).to_have_text("Solved")

    assert asker.page.problems == []
    assert helper.page.problems == []
