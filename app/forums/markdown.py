"""Markdown to safe HTML: CommonMark (markdown-it-py, raw HTML off), then the nh3 allowlist.

Beyond CommonMark (plus tables and ~~strikethrough~~), posts understand two things:

* ``@handle`` mentions a member: it becomes a link to their profile when the handle exists.
* A quote of another post, on lines of their own::

      [quote=123]
      the words being quoted
      [/quote]

  where 123 is the quoted post's number in its address (``/p/123``). The quote shows who
  wrote it and links back to it. Quotes may nest; inside code blocks they are left as text.

Cooking is two passes so that it needs one query for all mentions and one for all quotes:
:func:`scan` lists the handles and post ids, the caller looks them up, :func:`cook` renders.
Sanitising runs last, on everything, so a bug in the steps before cannot let script through.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

MENTION_RE = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9_]{3,20})(?![\w@])")
QUOTE_OPEN_RE = re.compile(r"^ {0,3}\[quote=(\d{1,18})\]\s*$")
QUOTE_CLOSE_RE = re.compile(r"^ {0,3}\[/quote\]\s*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
UPLOAD_SRC_RE = re.compile(r"^/uploads/[A-Za-z0-9][A-Za-z0-9_-]{0,126}(\.[A-Za-z0-9]{1,8})?$")
CODE_CLASS_RE = re.compile(r"^language-[A-Za-z0-9_+#-]{1,30}$")
MAX_QUOTE_DEPTH = 4

ALLOWED_TAGS = {
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
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "aside": {"class"},
    "div": {"class"},
}
ALLOWED_CLASSES = {("a", "mention"), ("aside", "quote"), ("div", "quote-title")}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if (tag, value) in ALLOWED_CLASSES:
            return value
        if tag == "code" and CODE_CLASS_RE.match(value):
            return value
        return None
    if tag == "img" and attribute == "src":
        return value if UPLOAD_SRC_RE.match(value) else None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto"},
    link_rel="nofollow ugc noopener",
    strip_comments=True,
)
_text_only = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})

_md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def sanitise(raw_html: str) -> str:
    """The allowlist every piece of member HTML passes through before it is stored."""
    return str(_cleaner.clean(raw_html))


def plain_text(cooked: str) -> str:
    return html.unescape(str(_text_only.clean(cooked))).strip()


@dataclass(frozen=True)
class QuotedPost:
    """What a quote shows about the post it quotes (only for posts the author may see)."""

    post_id: int
    author_id: int
    handle: str


@dataclass
class Cooked:
    html: str
    plain: str
    mentioned_handles: list[str] = field(default_factory=list)
    quoted_posts: list[QuotedPost] = field(default_factory=list)


@dataclass
class _Segment:
    text: str
    quote_of: int | None = None


def _split_quotes(source: str) -> list[_Segment]:
    """Top-level [quote=N]...[/quote] blocks and the Markdown around them."""
    segments: list[_Segment] = []
    buffer: list[str] = []
    inner: list[str] = []
    fence: str | None = None
    depth = 0
    quote_of: int | None = None
    for line in source.split("\n"):
        fence_match = FENCE_RE.match(line)
        if fence is not None:
            closing = fence_match.group(1) if fence_match else ""
            if closing[:1] == fence[0] and len(closing) >= len(fence):
                fence = None
            (inner if depth else buffer).append(line)
            continue
        if fence_match:
            fence = fence_match.group(1)
            (inner if depth else buffer).append(line)
            continue
        opened = QUOTE_OPEN_RE.match(line)
        if opened:
            if depth == 0:
                quote_of = int(opened.group(1))
                if buffer:
                    segments.append(_Segment("\n".join(buffer)))
                    buffer = []
                depth = 1
                continue
            depth += 1
        elif QUOTE_CLOSE_RE.match(line) and depth:
            depth -= 1
            if depth == 0:
                segments.append(_Segment("\n".join(inner), quote_of))
                inner = []
                continue
        (inner if depth else buffer).append(line)
    if depth:
        # An unclosed quote is just text, exactly as written.
        buffer.append(f"[quote={quote_of}]")
        buffer.extend(inner)
    if buffer:
        segments.append(_Segment("\n".join(buffer)))
    return segments


def _mentions_in(tokens: list[Token]) -> set[str]:
    found: set[str] = set()
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        in_link = 0
        for child in token.children:
            if child.type == "link_open":
                in_link += 1
            elif child.type == "link_close":
                in_link -= 1
            elif child.type == "text" and not in_link:
                found.update(match.group(1).lower() for match in MENTION_RE.finditer(child.content))
    return found


def scan(source: str) -> tuple[set[str], set[int]]:
    """The handles mentioned and the post ids quoted, for the caller to look up."""
    handles: set[str] = set()
    quotes: set[int] = set()

    def visit(text: str, depth: int) -> None:
        for segment in _split_quotes(text):
            if segment.quote_of is not None and depth < MAX_QUOTE_DEPTH:
                quotes.add(segment.quote_of)
                visit(segment.text, depth + 1)
            else:
                handles.update(_mentions_in(_md.parse(segment.text)))

    visit(source, 0)
    return handles, quotes


def _link(href: str, css_class: str | None = None) -> tuple[Token, Token]:
    opening = Token("link_open", "a", 1)
    opening.attrSet("href", href)
    if css_class:
        opening.attrSet("class", css_class)
    return opening, Token("link_close", "a", -1)


def _rewrite_inline(children: list[Token], members: dict[str, int], used: list[str]) -> list[Token]:
    result: list[Token] = []
    in_link = 0
    for child in children:
        if child.type == "link_open":
            in_link += 1
        elif child.type == "link_close":
            in_link -= 1
        if child.type == "image":
            src = str(child.attrGet("src") or "")
            if not UPLOAD_SRC_RE.match(src):
                # Pictures from other sites would track readers: show a link to them instead.
                opening, closing = _link(src)
                result.extend([opening, *(child.children or []), closing])
                continue
        if child.type != "text" or in_link:
            result.append(child)
            continue
        position = 0
        for match in MENTION_RE.finditer(child.content):
            handle = match.group(1).lower()
            if handle not in members:
                continue
            if match.start() > position:
                before = Token("text", "", 0)
                before.content = child.content[position : match.start()]
                result.append(before)
            opening, closing = _link(f"/u/{handle}", "mention")
            label = Token("text", "", 0)
            label.content = f"@{handle}"
            result.extend([opening, label, closing])
            if handle not in used:
                used.append(handle)
            position = match.end()
        if position == 0:
            result.append(child)
        elif position < len(child.content):
            rest = Token("text", "", 0)
            rest.content = child.content[position:]
            result.append(rest)
    return result


def _render(text: str, members: dict[str, int], used: list[str]) -> str:
    env: dict[str, object] = {}
    tokens = _md.parse(text, env)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _rewrite_inline(token.children, members, used)
    return str(_md.renderer.render(tokens, _md.options, env))


def cook(
    source: str,
    *,
    members: dict[str, int] | None = None,
    quotes: dict[int, QuotedPost] | None = None,
) -> Cooked:
    """Render ``source``. ``members`` maps existing handles to ids; ``quotes`` holds the posts
    the author may quote (others render as plain block quotes without attribution)."""
    known_members = members or {}
    known_quotes = quotes or {}
    used_handles: list[str] = []
    used_quotes: list[QuotedPost] = []

    def render(text: str, depth: int) -> str:
        parts: list[str] = []
        for segment in _split_quotes(text):
            if segment.quote_of is None or depth >= MAX_QUOTE_DEPTH:
                parts.append(_render(segment.text, known_members, used_handles))
                continue
            inner = render(segment.text, depth + 1)
            quoted = known_quotes.get(segment.quote_of)
            if quoted is None:
                parts.append(f"<blockquote>\n{inner}</blockquote>\n")
                continue
            if quoted not in used_quotes:
                used_quotes.append(quoted)
            handle = html.escape(quoted.handle)
            parts.append(
                '<aside class="quote"><div class="quote-title">'
                f'<a class="mention" href="/u/{handle}">@{handle}</a> '
                f'<a href="/p/{quoted.post_id}">#{quoted.post_id}</a></div>'
                f"<blockquote>\n{inner}</blockquote></aside>\n"
            )
        return "".join(parts)

    cooked = sanitise(render(source, 0))
    return Cooked(
        html=cooked,
        plain=plain_text(cooked),
        mentioned_handles=used_handles,
        quoted_posts=used_quotes,
    )
