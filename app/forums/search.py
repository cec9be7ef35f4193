"""Full-text search over topic titles and posts, for English and Japanese alike.

SQLite: the FTS5 trigram index answers terms of three or more characters. Japanese words are
often one or two characters (東京 is two), which trigrams cannot index, so shorter terms
fall back to a substring match on the posts themselves. PostgreSQL: substring matches
(ILIKE) served by pg_trgm GIN indexes. Every term must match (AND); results are the newest
matching posts first, keyset-paged by post id, and only what the searcher may see.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import String, and_, bindparam, column, literal_column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.forums import policy
from app.forums.queries import AUTHOR_WIDTH, AuthorView, author_columns, join_avatar
from app.kit.errors import Invalid
from app.kit.i18n import get_locale, lazy_gettext
from app.kit.sql import dialect_name
from app.models import SEARCH_TABLE, Category, Member, Post, Tag, Topic, TopicTag, Upload

RESULTS_PER_PAGE = 20
MAX_TERMS = 8
MAX_QUERY = 200
SNIPPET_CHARS = 180
# Full-text candidates fetched per round (SQLite), newest first; later rounds grow to the cap.
CANDIDATE_BATCH = 200
MAX_CANDIDATE_BATCH = 12800
TRIGRAM = 3

_fts = table(SEARCH_TABLE, column("rowid"), column("title"), column("body"))
_AVATAR = aliased(Upload, name="author_avatar")
_AUTHOR_AT = 10  # where a hit's author columns begin


@dataclass
class SearchHit:
    post_id: int
    topic_id: int
    topic_title: str
    number: int
    category_slug: str
    category_name: str
    author: AuthorView
    created_at: datetime
    solved: bool
    title_html: Markup
    snippet_html: Markup

    @property
    def url(self) -> str:
        return f"/p/{self.post_id}"


def terms_of(query: str) -> list[str]:
    """Words of the query (NFKC-normalised, so full-width ＡＢＣ finds ABC), at most eight."""
    normalised = unicodedata.normalize("NFKC", query)[:MAX_QUERY]
    terms: list[str] = []
    for word in normalised.split():
        word = word.strip('"')
        if word and word.lower() not in (t.lower() for t in terms):
            terms.append(word)
    return terms[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def highlight(text: str, terms: list[str], *, width: int | None = None) -> Markup:
    """Escape first, then mark: the text is split on the matches, every piece is escaped,
    and only the matched pieces are wrapped in <mark>. With ``width``, an excerpt around the
    first match."""
    if not terms:
        return Markup(escape(text[:width] if width else text))
    pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
    if width is not None and len(text) > width:
        match = pattern.search(text)
        start = max(0, (match.start() if match else 0) - width // 3)
        excerpt = text[start : start + width]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + width < len(text) else ""
        text = prefix + excerpt + suffix
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(str(escape(text[position : match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))


async def search(
    session: AsyncSession,
    viewer: Member | None,
    query: str,
    *,
    category_id: int | None = None,
    tag: str | None = None,
    author_handle: str | None = None,
    solved: bool | None = None,
    cursor: str | None = None,
    limit: int = RESULTS_PER_PAGE,
) -> tuple[list[SearchHit], str | None]:
    terms = terms_of(query)
    if not terms:
        return [], None
    author, avatar = Member, _AVATAR
    statement: Any = (
        select(
            Post.id,
            Post.topic_id,
            Post.number,
            Post.plain,
            Post.created_at,
            Topic.title,
            Topic.accepted_post_id,
            Category.slug,
            Category.name_en,
            Category.name_ja,
            *author_columns(author, avatar, "author"),
        )
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .join(author, author.id == Post.author_id)
        .where(Post.deleted_at.is_(None), policy.visible_topics(viewer))
    )
    statement = join_avatar(statement, author, avatar)
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    match: str | None = None
    if dialect_name(session) == "sqlite" and long_terms:
        match = " ".join(_fts_phrase(term) for term in long_terms)
        substring_terms = [term for term in terms if len(term) < TRIGRAM]
    else:
        substring_terms = terms
    for term in substring_terms:
        # The pattern is written into the SQL (escaped as a string literal), not bound: a
        # prepared statement that PostgreSQL plans once for any pattern (its "generic" plan,
        # which it may settle on after five searches on a connection) cannot tell a word
        # found in thousands of posts from a rare one, and took 66-155 ms where the plan made
        # for the words takes 5-10 ms (bench/ANALYSIS.md, session 24).
        pattern = bindparam(None, _like(term), type_=String, literal_execute=True)
        statement = statement.where(
            or_(
                Post.plain.ilike(pattern, escape="\\"),
                and_(Post.number == 1, Topic.title.ilike(pattern, escape="\\")),
            )
        )
    if category_id is not None:
        statement = statement.where(Topic.category_id == category_id)
    if tag:
        statement = statement.where(
            Topic.id.in_(
                select(TopicTag.topic_id)
                .join(Tag, Tag.id == TopicTag.tag_id)
                .where(Tag.name == tag)
            )
        )
    if author_handle:
        statement = statement.where(author.handle == author_handle.strip().lstrip("@").lower())
    if solved is True:
        statement = statement.where(Topic.accepted_post_id.is_not(None))
    elif solved is False:
        statement = statement.where(Topic.kind == "question", Topic.accepted_post_id.is_(None))
    before: int | None = None
    if cursor:
        if not cursor.isdigit():
            raise Invalid(
                lazy_gettext("This page link is not valid. Go back to the first page."),
                field="cursor",
            )
        before = int(cursor)
        statement = statement.where(Post.id < before)
    if match is not None:
        rows = await _fts_rows(session, statement, match, before, limit + 1)
    else:
        rows = list(
            (await session.execute(statement.order_by(Post.id.desc()).limit(limit + 1))).all()
        )
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    hits: list[SearchHit] = []
    for row in rows[:limit]:
        category_name = row.name_ja if get_locale() == "ja" and row.name_ja else row.name_en
        hits.append(
            SearchHit(
                post_id=row.id,
                topic_id=row.topic_id,
                topic_title=row.title,
                number=row.number,
                category_slug=row.slug,
                category_name=category_name,
                author=AuthorView(*row[_AUTHOR_AT : _AUTHOR_AT + AUTHOR_WIDTH]),
                created_at=row.created_at,
                solved=row.accepted_post_id is not None,
                title_html=highlight(row.title, terms),
                snippet_html=highlight(row.plain, terms, width=SNIPPET_CHARS),
            )
        )
    return hits, next_cursor


async def _fts_rows(
    session: AsyncSession, statement: Any, match: str, before: int | None, wanted: int
) -> list[Any]:
    """The newest ``wanted`` rows of ``statement`` among the posts the FTS index matches.

    Sorting every match by post id would read them all (a common word matches a tenth of the
    posts). FTS5 returns matches in descending rowid (= post id) order without sorting, so
    candidates come from the index in batches, newest first, and only they are joined and
    filtered for visibility and the other conditions; a batch that filters down to too few
    rows is followed by the next, older one (growing, so a narrow filter stays quick)."""
    rows: list[Any] = []
    batch = CANDIDATE_BATCH
    while len(rows) < wanted:
        candidates = select(_fts.c.rowid).where(literal_column(SEARCH_TABLE).op("MATCH")(match))
        if before is not None:
            candidates = candidates.where(_fts.c.rowid < before)
        ids = list(
            (await session.execute(candidates.order_by(_fts.c.rowid.desc()).limit(batch)))
            .scalars()
            .all()
        )
        if not ids:
            break
        found = await session.execute(
            statement.where(Post.id.in_(ids)).order_by(Post.id.desc()).limit(wanted - len(rows))
        )
        rows.extend(found.all())
        if len(ids) < batch:
            break
        before = ids[-1]
        batch = min(batch * 4, MAX_CANDIDATE_BATCH)
    return rows
