"""In Chromium, hostile text (tests/security/corpus.py: OWASP-style vectors and naughty strings)
shown on real pages never runs: no dialog opens and no injected global appears."""

from __future__ import annotations

import re

from tests.browser.conftest import sign_in
from tests.security.corpus import OWASP_STYLE, naughty_strings, single_line


async def _api(page, method: str, path: str, payload) -> dict:
    token = await page.get_attribute('meta[name="csrf-token"]', "content")
    answer = await page.request.fetch(
        path, method=method, data=payload, headers={"X-CSRF-Token": token}
    )
    assert answer.ok, await answer.text()
    return await answer.json()


async def test_no_payload_runs_in_the_browser(live_server, new_page):
    page = await new_page()
    await sign_in(page, live_server, "alex@example.com")
    categories = await (await page.request.get(live_server.url("/api/v1/categories"))).json()
    category = next(
        c for c in categories if c["kind"] == "discussion" and c["posting"] == "members"
    )
    printable = [
        s
        for s in OWASP_STYLE + [s for s in naughty_strings() if "<" in s][:40]
        if not re.search(
            r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]", s
        )
    ]
    body = "\n\n".join(printable)
    topic = await _api(
        page,
        "POST",
        live_server.url("/api/v1/topics"),
        {"category_id": category["id"], "title": single_line(OWASP_STYLE[2], 200), "body": body},
    )
    me = await _api(
        page,
        "PATCH",
        live_server.url("/api/v1/me"),
        {"display_name": single_line(OWASP_STYLE[4], 60), "bio": "\n".join(printable)[:2000]},
    )
    topic_id = topic["topic"]["id"]
    for path in ("/", f"/t/{topic_id}", f"/u/{me['handle']}", "/search?q=script"):
        await page.goto(live_server.url(path))
        await page.wait_for_load_state("load")
        assert await page.evaluate("() => window.__kizuna_xss === undefined"), path
    assert [p for p in page.problems if p.startswith("dialog")] == []

    # The Japanese interface shows the same content just as inertly.
    japanese = await new_page("ja-JP")
    await japanese.goto(live_server.url(f"/t/{topic_id}"))
    assert await japanese.get_attribute("html", "lang") == "ja"
    assert await japanese.evaluate("() => window.__kizuna_xss === undefined")
    assert [p for p in japanese.problems if p.startswith("dialog")] == []
