"""Hostile Markdown is rendered harmless, in pages and in the API."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.forums.markdown import cook
from app.models import Post

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](data:image/png;base64,AAAA)",
    "[click](vbscript:msgbox(1))",
    '<a href="https://example.com" onclick="steal()">x</a>',
    '<div hx-get="/admin" hx-trigger="load">x</div>',
    '<span style="position:fixed;top:0">overlay</span>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    '[x](https://example.com "title" onmouseover=alert(1))',
    "![track](https://evil.example/pixel.png)",
    "<!-- comment --><form action=/signout><button>go</button></form>",
]
SAFE_TAGS = {
    "a",
    "aside",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    def handle_comment(self, data):
        self.found.append(("!--", []))


def assert_safe(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith(("on", "hx-", "data-")), (name, html)
            assert name != "style", html
            lowered = (value or "").strip().lower()
            assert not lowered.startswith(("javascript:", "data:", "vbscript:")), html
            if tag == "img" and name == "src":
                assert lowered.startswith("/uploads/"), html


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_inputs_are_neutralised(source):
    assert_safe(cook(source).html)


def test_links_get_rel_and_uploads_show_as_images():
    html = cook("[a](https://example.com) ![pic](/uploads/abcdefghijklmnopqrstuvwx.png)").html
    assert 'rel="nofollow ugc noopener"' in html
    assert '<img src="/uploads/abcdefghijklmnopqrstuvwx.png" alt="pic">' in html
    outside = cook("![pic](https://cdn.example/p.png)").html
    assert "<img" not in outside
    assert 'href="https://cdn.example/p.png"' in outside
    traversal = cook("![pic](/uploads/../admin)").html
    assert "<img" not in traversal


def test_code_keeps_language_class_and_mentions_skip_code():
    html = cook("```python\nprint('@hana')\n```\n`@hana`", members={"hana": 1}).html
    assert 'class="language-python"' in html
    assert "mention" not in html


async def test_hostile_post_is_stored_and_served_clean(client, member_factory, login, forum):
    category = await forum.category()
    author = await member_factory()
    await login(client, author)
    body = "\n\n".join(HOSTILE)
    created = await client.send_json(
        "POST",
        "/api/v1/topics",
        {"category_id": category.id, "title": "Hostile", "body": body},
    )
    assert created.status_code == 201
    (cooked,) = (await forum.rows(select(Post.cooked)))[0]
    page = await client.get(f"/t/{created.json()['topic']['id']}")
    api_cooked = created.json()["posts"][0]["cooked"]
    for html in (cooked, api_cooked):
        assert_safe(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    (source,) = (await forum.rows(select(Post.source)))[0]
    assert source == body
