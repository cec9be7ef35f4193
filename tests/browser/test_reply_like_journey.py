"""Journey: member B replies to member A's topic and likes it, from another browser. A, who keeps
the topic open, sees the reply arrive, the bell count rise and the points chip grow, live over
the WebSocket without reloading; the notifications then read in Japanese."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import open_live, start_topic, unique, use_language


async def test_reply_and_like_reach_the_author_live(community):
    author = await community.join("Author")
    fan = await community.join("Replier")
    title = unique("Favourite teapot")
    address = await start_topic(community, author, "Fan lounge", title)
    topic_id = int(re.search(r"/t/(\d+)", address).group(1))

    # A keeps the topic open; the live socket is up and subscribed before B does anything.
    await open_live(author.page, address, f"topic:{topic_id}")
    bell = author.page.locator("#bell-count")
    await expect(bell).to_be_hidden()
    points_before = await author.points()
    marker = await author.page.evaluate("() => (window.__no_reload = 'still-here')")

    # B, in another browser context, replies and likes A's post.
    await fan.page.goto(address)
    reply = f"Mine is cast iron ({unique('reply')})."
    await fan.page.fill("#reply #f-body", reply)
    await fan.page.click("#reply button[type=submit]")
    await expect(fan.page.locator("#posts")).to_contain_text(reply)

    # The reply appears on A's open page, and the bell counts it.
    await expect(author.page.locator("#posts")).to_contain_text(reply)
    await expect(bell).to_be_visible()
    await expect(bell).to_have_text("1")

    first_post = fan.page.locator("#posts article.post").first
    await first_post.locator(".like button").click()
    await expect(first_post.locator(".like button")).to_have_attribute("aria-pressed", "true")
    await expect(first_post.locator(".like .count")).to_have_text("1")

    # The like: one more unread notification and one more point, still on the same page.
    await expect(bell).to_have_text("2")
    await expect(author.page.locator(".points-chip [data-points=lifetime]")).to_have_text(
        str(points_before + 1)
    )
    await expect(author.page.locator("#bell")).to_have_attribute("aria-label", re.compile(r"\(2\)"))
    assert await author.page.evaluate("() => window.__no_reload") == marker

    # The bell leads to both notifications; in Japanese they read naturally.
    await author.page.click("#bell")
    await use_language(author.page, "ja")
    await expect(author.page.locator("main h1")).to_have_text("通知")
    items = author.page.locator("#notification-list li.notification")
    await expect(items).to_have_count(2)
    # Newest first; the name is a link with the rank badge, then the sentence.
    await expect(items.nth(0).locator(".notification-text")).to_contain_text(
        f"さんが「{title}」のあなたの投稿に「いいね」しました"
    )
    await expect(items.nth(1).locator(".notification-text")).to_contain_text(
        f"さんが「{title}」で返信しました"
    )
    await expect(items.nth(0).locator(".notification-text a.member-link")).to_have_text(fan.name)
    await expect(items.locator("a.notification-link").first).to_have_text("開く")

    assert author.page.problems == []
    assert fan.page.problems == []
