from __future__ import annotations

import re

from tests.browser.conftest import sign_in


async def test_sign_up_confirm_and_switch_to_japanese(live_server, new_page):
    visitor = await new_page()
    await visitor.goto(live_server.url("/signup"))
    await visitor.fill("#f-email", "browser@example.com")
    await visitor.fill("#f-display_name", "Browser Fan")
    await visitor.fill("#f-password", "short")
    await visitor.click("form.stacked button[type=submit]")
    assert "Use at least 10 characters." in await visitor.inner_text("#e-password")

    await visitor.fill("#f-password", "a long enough passphrase")
    await visitor.click("form.stacked button[type=submit]")
    await visitor.wait_for_selector("text=Check your inbox")

    # The activation mail waits in the outbox (no SMTP configured); the admin can read it.
    admin = await new_page()
    await sign_in(admin, live_server, "admin@example.com")
    await admin.goto(live_server.url("/admin/outbox"))
    body = await admin.inner_text("main")
    link = re.search(r"(http://127\.0\.0\.1:\d+/activate/\S+)", body)
    assert link, body

    await visitor.goto(link.group(1))
    await visitor.wait_for_selector("text=Welcome, Browser Fan!")
    assert "Browser Fan" in await visitor.inner_text("header")

    # The footer switcher turns the interface Japanese, and it stays Japanese.
    await visitor.click("footer button[lang=ja]")
    await visitor.wait_for_selector("html[lang=ja]")
    assert "ログアウト" in await visitor.inner_text("header")
    await visitor.goto(live_server.url("/settings"))
    assert "パスワードを変更" in await visitor.inner_text("main")
    assert visitor.problems == []


async def test_csp_blocks_injected_inline_script(live_server, new_page):
    page = await new_page()
    await page.goto(live_server.url("/"))
    await page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__pwned = true;';
                   document.body.appendChild(s); }"""
    )
    assert await page.evaluate("() => window.__pwned === undefined")
    assert any("Content Security Policy" in problem for problem in page.problems)
