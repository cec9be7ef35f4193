"""Journey: a member flags a reply; a moderator hides it from the review queue. The reply is
then gone for other members and visitors, while staff see it with a banner (in Japanese too)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import open_status, start_topic, unique, use_language


async def test_flag_and_hide_from_the_review_queue(community, new_page):
    starter = await community.join("Starter")
    spammer = await community.join("Spammer")
    title = unique("Weekend brewing")
    address = await start_topic(community, starter, "Fan lounge", title)

    spam = f"Cheap watches, best prices, message me now ({unique('spam')})"
    await spammer.page.goto(address)
    await spammer.page.fill("#reply #f-body", spam)
    await spammer.page.click("#reply button[type=submit]")
    await expect(spammer.page.locator("#posts")).to_contain_text(spam)

    # The topic's starter flags the reply as spam.
    await starter.page.goto(address)
    reply = starter.page.locator("#posts article.post", has_text=spam)
    post_id = int((await reply.get_attribute("id")).removeprefix("post-"))
    await reply.get_by_role("link", name="Flag").click()
    await expect(starter.page.locator("main h1")).to_have_text("Flag a post")
    await starter.page.get_by_label("Spam").check()
    await starter.page.get_by_role("button", name="Send flag").click()
    await expect(starter.page.locator(".flash")).to_contain_text(
        "Thank you. A moderator will review your flag."
    )
    # One new member's flag is below the threshold: the reply stays until a moderator decides.
    await expect(starter.page.locator("#posts")).to_contain_text(spam)

    # The moderator finds it in the review queue, with who flagged it and why, and hides it.
    moderator = await community.staff("mod@example.com", "en")
    await moderator.page.click("header nav a[href='/mod']")
    await expect(moderator.page.locator("main h1")).to_have_text("Review queue")
    item = moderator.page.locator(f"#review-{post_id}")
    await expect(item).to_contain_text(spam)
    await expect(item).to_contain_text(f"{starter.name}")
    await expect(item).to_contain_text("Spam")
    await item.get_by_label("Action").select_option("hide")
    await item.get_by_label("Reason (the author is told)").fill("Advertising")
    await item.get_by_role("button", name="Apply").click()
    await expect(moderator.page.locator(".flash")).to_be_visible()
    await expect(moderator.page.locator(f"#review-{post_id}")).to_have_count(0)

    # Other members and visitors no longer see the reply, nor reach it by its address.
    await starter.page.goto(address)
    await expect(starter.page.locator("main h1")).to_have_text(title)
    await expect(starter.page.locator(f"#post-{post_id}")).to_have_count(0)
    await expect(starter.page.locator("main")).not_to_contain_text(spam)
    visitor = await new_page()
    await visitor.goto(address)
    await expect(visitor.locator("main h1")).to_have_text(title)
    await expect(visitor.locator("main")).not_to_contain_text(spam)
    assert await open_status(visitor, community.url(f"/p/{post_id}")) == 404

    # Staff still see it, under a banner saying why; the banner reads in Japanese too.
    await moderator.page.goto(address)
    hidden = moderator.page.locator(f"#post-{post_id}")
    await expect(hidden).to_contain_text(spam)
    await expect(hidden.locator(".moderation-banner")).to_contain_text(
        "Hidden from members: Advertising"
    )
    await use_language(moderator.page, "ja")
    await expect(moderator.page.locator(f"#post-{post_id} .moderation-banner")).to_contain_text(
        "メンバーには非表示: Advertising"
    )

    for page in (starter.page, spammer.page, moderator.page, visitor):
        assert page.problems == []
