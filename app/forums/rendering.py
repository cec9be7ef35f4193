"""Small, memoised helpers for forum templates.

A page of posts formats a time and a like count per post. Both results depend only on their
inputs and the reader's locale and time zone, so they are computed once per distinct value and
kept (bounded), which takes Babel's date formatting and the gettext fallback chain off the
per-post path. The output is exactly what ``format_when`` and ``ngettext`` give.

Whole posts are kept the same way (:func:`post_html`): a rendered post is a pure function of
the post's row, its author's badges, the reader's relation to it (anonymous, author, staff,
may reply, may accept, read up to where) and the reader's language and time zone. The cache
key is all of those values, so an edit, a like, a hidden post or a renamed rank is a new key
and no write has to invalidate anything, in this process or any other. Rows of a topic list
are kept the same way (:func:`topic_row_html`): a row is a pure function of the topic's
summary (counters, last poster, tags, the reader's read marker), whether the list is one
category's, and the reader's language and time zone.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import pass_context
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


def _post_key(context: Context, post: Any) -> tuple[Any, ...]:
    """Every value ``post_article`` (templates/forums/_post_macros.html) reads."""
    viewer = context.get("viewer")
    topic = context["topic"]
    last_read = context["ctx"].last_read_number
    if viewer is None:
        relation: tuple[Any, ...] = ()
    else:
        relation = (viewer.id == post.author.id, viewer.is_staff, viewer.can_moderate)
    return (
        tuple(post.__dict__.values()),  # the post's row and its author's names and badges
        topic.id,
        topic.kind,
        last_read is not None and post.number > last_read,
        context.get("first_unread") == post.number,
        viewer is None,
        relation,
        bool(context.get("can_reply")),
        bool(context.get("can_moderate")),
        bool(context.get("can_accept")),
        i18n.get_locale(),
        i18n.get_timezone(),
        current_ladder(),  # rank badges; a changed ladder is a new object
    )


@pass_context
def post_html(context: Context, post: Any) -> Markup:
    """``post_article(post)`` for this reader, rendered once per distinct key and kept."""

    def render() -> str:
        values = {name: context.get(name) for name in _POST_CONTEXT}
        return (
            environment()
            .get_template("forums/_post.html")
            .render(**values, post=post, csrf_token=_CSRF_SLOT)
        )

    html = _posts.get(_post_key(context, post), render)
    return Markup(html.replace(_CSRF_SLOT, context.get("csrf_token") or ""))


def _row_key(context: Context, topic: TopicSummary) -> tuple[Any, ...]:
    """Every value ``forums/_topic_row.html`` reads."""
    return (
        topic.key,  # the topic's row (tags and the reader's read marker), and whether it is new
        bool(context.get("category")),
        i18n.get_locale(),
        i18n.get_timezone(),
        current_ladder(),  # rank badges; a changed ladder is a new object
    )


@pass_context
def topic_row_html(context: Context, topic: TopicSummary) -> Markup:
    """One topic-list row for this reader, rendered once per distinct key and kept."""
    category = context.get("category")

    def render() -> str:
        return (
            environment()
            .get_template("forums/_topic_row.html")
            .render(topic=topic, category=category)
        )

    return Markup(_rows.get(_row_key(context, topic), render))


def install() -> None:
    env = environment()
    env.filters["when_cached"] = when_cached
    env.globals["likes_label"] = likes_label
    env.globals["post_html"] = post_html
    env.globals["topic_row_html"] = topic_row_html
