"""Journey: a new fan signs up, activates the account from the mail, starts a topic and finds it
in the topic list; others see it too, and the list reads in Japanese."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import start_topic, unique, use_language


async def test_sign_up_and_post(community, new_page):
    fan = await community.join("Poster")
    await expect(fan.page.locator("main")).to_contain_text(f"Welcome, {fan.name}!")

    title = unique("My first topic")
    address = await start_topic(community, fan, "Fan lounge", title)
    await expect(fan.page.locator("#posts")).to_contain_text(f"Body of {title}")
    await expect(fan.page.locator("#posts .post-head")).to_contain_text(fan.name)

    # Back on the home page, the topic heads the latest topics, by its author.
    await fan.page.click("header nav a[href='/']")
    row = fan.page.locator("tr.topic-row", has_text=title)
    await expect(row).to_be_visible()
    await expect(row.locator(".topic-meta")).to_contain_text(fan.name)
    await expect(fan.page.locator("tr.topic-row a.topic-title").first).to_have_text(title)

    # A visitor who is not signed in finds it in the list and can open it.
    visitor = await new_page()
    await visitor.goto(community.url("/"))
    await visitor.click(f"tr.topic-row a.topic-title:text-is('{title}')")
    await expect(visitor.locator("main h1")).to_have_text(title)
    assert visitor.url.split("#")[0] == address

    # The same list in Japanese, switched from the footer.
    await use_language(fan.page, "ja")
    await expect(fan.page.locator("main h1")).to_have_text("最新のトピック")
    await expect(fan.page.locator("main a.button[href='/t/new']")).to_have_text("新しいトピック")
    await expect(fan.page.locator("tr.topic-row", has_text=title)).to_be_visible()

    assert fan.page.problems == []
    assert visitor.problems == []
