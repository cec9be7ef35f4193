"""Journey: an operator opens the analytics dashboard, looks a fan up among the members and
confirms them as an ambassador. The fan joins the confirmed ambassadors and wears the badge
next to their name in the forum; the ambassador list reads in Japanese."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import start_topic, unique, use_language


def section(page, heading: str):
    return page.locator("section.card", has=page.locator("h2", has_text=heading))


async def test_operator_confirms_an_ambassador(community):
    fan = await community.join("Keen fan")
    address = await start_topic(community, fan, "Fan lounge", unique("Tasting notes"))
    await expect(fan.page.locator("#posts .post-head .member-link")).to_have_text(fan.name)
    await expect(fan.page.locator("#posts .post-head .ambassador-badge")).to_have_count(0)

    operator = await community.staff("ops@example.com", "en")
    page = operator.page
    await page.click("header nav a[href='/ops']")
    await expect(page.locator("main h1")).to_have_text("Community health")
    await expect(page.locator("main")).to_contain_text("New members")

    await page.click("nav.ops-nav a[href='/ops/ambassadors']")
    await expect(page.locator("main h1")).to_have_text("Ambassadors")
    await expect(section(page, "Candidates")).to_be_visible()
    await expect(section(page, "Confirmed ambassadors")).not_to_contain_text(fan.name)

    # Find the fan among the members and open their analytics page.
    await page.click("nav.ops-nav a[href='/ops/members']")
    await page.fill("#f-q", fan.name)
    await page.click("form.filters button[type=submit]")
    row = page.locator("table.data tbody tr", has_text=fan.name)
    await expect(row).to_have_count(1)
    await row.get_by_role("link", name="Details").click()
    await expect(page.locator("main h1")).to_contain_text(fan.name)
    status = section(page, "Ambassador")
    await expect(status.locator("p strong").first).to_have_text("None")

    await status.get_by_label("Note").fill("Helps newcomers every week.")
    await status.get_by_role("button", name="Confirm as ambassador").click()
    await expect(page.locator(".flash")).to_contain_text("The ambassador status was updated.")
    status = section(page, "Ambassador")
    await expect(status.locator("p strong").first).to_have_text("Confirmed ambassador")
    await expect(status.locator(".history")).to_contain_text("None → Confirmed ambassador")
    await expect(status.locator(".history")).to_contain_text("Helps newcomers every week.")

    await page.click("nav.ops-nav a[href='/ops/ambassadors']")
    await expect(section(page, "Confirmed ambassadors")).to_contain_text(fan.name)

    # Members now see the badge next to the fan's name: on their posts and their profile.
    await fan.page.goto(address)
    await expect(fan.page.locator("#posts .post-head .ambassador-badge")).to_have_text("Ambassador")
    await fan.page.click("#posts .post-head .member-link")
    await expect(fan.page.locator("main h1 .ambassador-badge")).to_have_text("Ambassador")

    # The operator's ambassador list in Japanese.
    await use_language(page, "ja")
    await expect(page.locator("main h1")).to_have_text("アンバサダー")
    confirmed = section(page, "認定アンバサダー")
    row = confirmed.locator("tr", has_text=fan.name)
    await expect(row).to_have_count(1)
    await expect(row.get_by_role("link", name="レビュー")).to_be_visible()

    assert fan.page.problems == []
    assert page.problems == []
