"""Journey: an operator opens a members-of-rank event. A member of that rank is told, finds it
among the campaigns and reserves a place (in Japanese); a newcomer below the rank cannot find
it: not in the list, not in the campaign search, and its address answers 404."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.browser.conftest import open_status, unique, use_language

COMMUNITY_ZONE = ZoneInfo("Asia/Tokyo")  # KIZUNA_COMMUNITY_TIMEZONE's default


def local_input(moment: datetime) -> str:
    """A value for an <input type=datetime-local>, in the community's time zone."""
    return moment.astimezone(COMMUNITY_ZONE).strftime("%Y-%m-%dT%H:%M")


async def test_eligible_member_enters_what_others_cannot_find(community):
    regular = await community.join("Regular")
    newcomer = await community.join("Newcomer")

    # Precondition through the admin UI: the first member earns the "Regular" rank (50 points).
    admin = await community.admin()
    await admin.page.goto(community.url("/admin/points/adjust"))
    await admin.page.fill("#f-handle", regular.handle)
    await admin.page.fill("#f-amount", "100")
    await admin.page.fill("#f-reason", "Helped at the spring meetup")
    await admin.page.get_by_role("button", name="Adjust points").click()
    await expect(admin.page.locator(".flash")).to_be_visible()

    # The operator creates the event for members of rank Regular and above, and opens it.
    title = unique("Regulars' tea evening")
    title_ja = title.replace("Regulars' tea evening", "レギュラー限定 お茶会")
    operator = await community.staff("ops@example.com", "en")
    page = operator.page
    await page.goto(community.url("/ops/campaigns/new"))
    await page.fill("#f-title_en", title)
    await page.fill("#f-title_ja", title_ja)
    await page.fill("#f-description_en", "An evening with the tea team.")
    await page.fill("#f-description_ja", "ティーチームと過ごす夕べ。")
    await page.select_option("#f-kind", "event")
    now = datetime.now(COMMUNITY_ZONE)
    await page.fill("#f-starts_at", local_input(now - timedelta(hours=1)))
    await page.fill("#f-ends_at", local_input(now + timedelta(days=7)))
    await page.select_option("#f-audience", "rank")
    await page.select_option("#f-audience_rank_id", label="Regular (50)")
    await page.select_option("#f-selection", "first_come")
    await page.fill("#f-capacity", "20")
    await page.get_by_role("button", name="Save campaign").click()
    await expect(page.locator(".flash")).to_contain_text("The campaign was saved.")
    await page.get_by_role("button", name="Open now and notify the audience").click()
    await expect(page.locator(".flash")).to_contain_text(
        "The campaign is open and its audience was told."
    )
    campaign_url = page.url.replace("/ops/campaigns/", "/campaigns/")

    # The regular member finds it among the campaigns.
    await regular.page.goto(community.url("/"))
    await regular.page.click("header nav a[href='/campaigns']")
    await expect(regular.page.locator("main h1")).to_have_text("Campaigns")
    await regular.page.get_by_role("link", name=title).click()
    await expect(regular.page.locator("main h1")).to_have_text(title)
    assert regular.page.url == campaign_url

    # The newcomer cannot find it: not listed, not found by searching, and 404 by address.
    await newcomer.page.goto(community.url("/"))
    await newcomer.page.click("header nav a[href='/campaigns']")
    await expect(newcomer.page.locator("main h1")).to_have_text("Campaigns")
    await expect(newcomer.page.locator("main")).not_to_contain_text(title)
    await newcomer.page.fill("#campaign-q", title)
    await newcomer.page.get_by_role("button", name="Search").click()
    await expect(newcomer.page.locator("main")).to_contain_text(
        "There are no campaigns for you right now."
    )
    assert await open_status(newcomer.page, campaign_url) == 404
    await expect(newcomer.page.locator("main")).not_to_contain_text(title)

    # The regular member reserves a place, in Japanese.
    await use_language(regular.page, "ja")
    await expect(regular.page.locator("main h1")).to_have_text(title_ja)
    await expect(regular.page.locator("#enter h2")).to_have_text("参加申し込み")
    await regular.page.get_by_role("button", name="参加を申し込む").click()
    entry = regular.page.locator("#my-entry")
    await expect(entry.locator("h2")).to_have_text("あなたの応募")

    # The operator sees the entry; the newcomer is still kept out.
    await page.goto(page.url.rstrip("/") + "/entries")
    await expect(page.locator("main")).to_contain_text(regular.name)
    assert await open_status(newcomer.page, campaign_url) == 404

    for person in (regular, newcomer, operator, admin):
        assert person.page.problems == []
