"""Small, memoised helpers for forum templates.

A page of posts formats a time and a like count per post. Both results depend only on their
inputs and the reader's locale and time zone, so they are computed once per distinct value and
kept (bounded), which takes Babel's date formatting and the gettext fallback chain off the
per-post path. The output is exactly what ``format_when`` and ``ngettext`` give.

Whole posts are kept the same way (:func:`posts_html`): a rendered post is a pure function of
the post's row, its author's badges, the reader's relation to it (anonymous, author, staff,
may reply, may accept, read up to where) and the reader's language and time zone. The cache
key is all of those values, so an edit, a like, a hidden post or a renamed rank is a new key
and no write has to invalidate anything, in this process or any other. Rows of a topic list
are kept the same way (:func:`topic_rows_html`): a row is a pure function of the topic's
summary (counters, last poster, tags, the reader's read marker), whether the list is one
category's, and the reader's language and time zone.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.forums.queries import TopicSummary
from app.kit import i18n
from app.kit.kept import Kept
from app.kit.templating import environment
from app.points.ladder import current_ladder

_KEPT = 16384
# Rendered posts kept per process (a post is 1-3 KB of HTML, its key about as much again).
POSTS_KEPT = 4096
# Rendered topic-list rows kept per process (a row is about 1 KB of HTML).
ROWS_KEPT = 4096
# Stands for the reader's CSRF token in a kept post; random per process, so no post body can
# contain it, and replaced by the real token on the way out.
_CSRF_SLOT = secrets.token_hex(16)
# What post_article reads from the page besides the post (and the CSRF token, see above).
_POST_CONTEXT = (
    "viewer",
    "topic",
    "ctx",
    "first_unread",
    "can_reply",
    "can_moderate",
    "can_accept",
)


_posts: Kept[tuple[Any, ...], str] = Kept(POSTS_KEPT)
_rows: Kept[tuple[Any, ...], str] = Kept(ROWS_KEPT)


@lru_cache(maxsize=_KEPT)
def _when(value: datetime, style: str, locale: str, zone: str) -> str:
    # The key carries the locale and zone that format_when reads from the context.
    return i18n.format_when(value, style)


def when_cached(value: datetime | None, style: str = "medium") -> str:
    """``|when``, memoised per (time, style, locale, time zone)."""
    if value is None:
        return ""
    return _when(value, style, i18n.get_locale(), i18n.get_timezone())


@lru_cache(maxsize=1024)
def _likes(count: int, locale: str) -> str:
    return i18n.ngettext("%(num)s like", "%(num)s likes", count)


def likes_label(count: int) -> str:
    """The like count ("3 likes") in the reader's language."""
    return _likes(int(count), i18n.get_locale())


@pass_context
def posts_html(context: Context, posts: Sequence[Any]) -> Markup:
    """The posts, each ``post_article(post)`` for this reader, rendered once per distinct key
    (every value the macro reads, templates/forums/_post_macros.html) and kept; a question's
    answer count follows its first post. One string for the page: handed to the template
    post by post, each kept post was copied twice more (marked safe, then escaped), which
    cost 1% of a topic page's instructions."""
    viewer = context.get("viewer")
    topic = context["topic"]
    last_read = context["ctx"].last_read_number
    first_unread = context.get("first_unread")
    csrf_token = context.get("csrf_token") or ""
    # What every post's key shares; rank badges come from the ladder (a changed ladder is a
    # new object).
    shared = (
        topic.id,
        topic.kind,
        viewer is None,
        bool(context.get("can_reply")),
        bool(context.get("can_moderate")),
        bool(context.get("can_accept")),
        i18n.get_locale(),
        i18n.get_timezone(),
        current_ladder(),
    )
    values = {name: context.get(name) for name in _POST_CONTEXT}
    template = environment().get_template("forums/_post.html")
    parts: list[str] = []
    for post in posts:
        relation: tuple[Any, ...] = ()
        if viewer is not None:
            relation = (viewer.id == post.author.id, viewer.is_staff, viewer.can_moderate)
        key = (
            tuple(post.__dict__.values()),  # the post's row and its author's names and badges
            last_read is not None and post.number > last_read,
            first_unread == post.number,
            relation,
            *shared,
        )
        parts.append(_posts.get(key, _render_post, template, values, post))
        if topic.kind == "question" and post.number == 1:
            parts.append(
                Markup('<h2 class="answers-head">%s</h2>')
                % i18n.ngettext("%(num)s answer", "%(num)s answers", topic.reply_count)
            )
    return Markup("".join(parts).replace(_CSRF_SLOT, csrf_token))


def _render_post(template: Template, values: dict[str, Any], post: Any) -> str:
    return template.render(**values, post=post, csrf_token=_CSRF_SLOT)


@pass_context
def topic_rows_html(context: Context, topics: Sequence[TopicSummary]) -> Markup:
    """The rows of a topic list for this reader, each rendered once per distinct key
    (``forums/_topic_row.html`` reads nothing else) and kept, each followed by a newline."""
    category = context.get("category")
    # What every row's key shares: rank badges come from the ladder (a changed ladder is a
    # new object).
    shared = (bool(category), i18n.get_locale(), i18n.get_timezone(), current_ladder())
    template = environment().get_template("forums/_topic_row.html")
    return Markup(
        "".join(
            _rows.get((topic.key, *shared), _render_row, template, topic, category) + "\n"
            for topic in topics
        )
    )


def _render_row(template: Template, topic: TopicSummary, category: Any) -> str:
    return template.render(topic=topic, category=category)


def list_url(
    base_path: str,
    params: Mapping[str, Any],
    cursor: str | None = None,
    sort: str | None = None,
    period: str | None = None,
    status: str | None = None,
) -> str:
    """A topic list's address with ``params`` (sort, period, status) and whatever is given
    instead of them: the sort and period tabs, the question filters, the next page. Defaults
    are left out (latest activity, all time). A function, not a macro: a topic list builds a
    handful of these."""
    query: dict[str, str] = {}
    chosen_sort = sort if sort is not None else params.get("sort")
    if chosen_sort and chosen_sort != "activity":
        query["sort"] = chosen_sort
    chosen_period = period if period is not None else params.get("period")
    if chosen_sort == "top" and chosen_period and chosen_period != "all":
        query["period"] = chosen_period
    chosen_status = status if status is not None else params.get("status")
    if chosen_status:
        query["status"] = chosen_status
    if cursor:
        query["cursor"] = cursor
    return f"{base_path}?{urlencode(query)}" if query else base_path


@lru_cache(maxsize=64)
def swatch(colour: str) -> Markup:
    """A category's colour as a small square (an SVG fill: the CSP forbids style
    attributes)."""
    return Markup(
        '<svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" '
        'focusable="false"><rect width="12" height="12" rx="3" fill="{}"/></svg>'
    ).format(colour)


def category_badge(category: Any) -> Markup:
    """A category's name with its colour, linking to its topic list."""
    return Markup('<a class="category-badge" href="/c/{}">{}{}</a>').format(
        category.slug, swatch(category.colour), category.name
    )


def tag_list(tags: Sequence[str] | None) -> Markup:
    """A topic's tags, each linking to its topic list (nothing without tags)."""
    if not tags:
        return Markup("")
    items = Markup("").join(
        Markup('<li><a class="tag" href="/tags/{}">#{}</a></li>').format(tag, tag) for tag in tags
    )
    return Markup('<ul class="tags" aria-label="{}">{}</ul>').format(i18n.gettext("Tags"), items)


def install() -> None:
    env = environment()
    # Small pieces of forum pages, as functions rather than macros: a macro call, and the
    # import that brings it into a template, cost more than the markup they make (a topic
    # list's three imports and its tab links were about a quarter of its rendering).
    env.globals["list_url"] = list_url
    env.globals["swatch"] = swatch
    env.globals["category_badge"] = category_badge
    env.globals["tag_list"] = tag_list
    env.filters["when_cached"] = when_cached
    env.globals["likes_label"] = likes_label
    env.globals["posts_html"] = posts_html
    env.globals["topic_rows_html"] = topic_rows_html
