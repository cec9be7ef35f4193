"""Reads for forum pages and the API. Every query joins the visibility rules of policy.py,
selects only the columns a page shows, and pages with keyset cursors (never OFFSET)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    SQLColumnExpression,
    and_,
    bindparam,
    case,
    func,
    inspect,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.sql.visitors import replacement_traverse

from app.forums import policy
from app.kit import clock
from app.kit.errors import Invalid, NotFound
from app.kit.i18n import get_locale, lazy_gettext
from app.kit.kept import Kept
from app.kit.sql import (
    dialect_name,
    driver_rows,
    driver_rows_packed,
    execute_core,
    page_limit,
    prebuilt,
    read_prebuilt,
    unindexed,
)
from app.models import (
    AnswerVote,
    Category,
    Member,
    Post,
    PostLike,
    PostRevision,
    Role,
    Tag,
    Topic,
    TopicRead,
    TopicTag,
    Upload,
)
from app.models.base import INT32_RANGE, INT64_RANGE
from app.models.upload import upload_url
from app.moderation import policy as moderation

TOPICS_PER_PAGE = 30
POSTS_PER_PAGE = 20
NEW_TOPIC_DAYS = 14
SORTS = ("activity", "newest", "top")
# Turns a row as the database gave it into SQLAlchemy's values (app.kit.sql.driver_rows).
Converter = Callable[[tuple[Any, ...]], tuple[Any, ...]]
PERIODS = {"day": 1, "week": 7, "month": 30, "year": 365, "all": None}
STATUSES = ("solved", "unsolved", "unanswered")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Built once: an aliased entity adapts every column it is asked for on first use and keeps the
# result, so a fresh alias per request would redo that work on every page.
_AUTHOR = aliased(Member, name="author")
_AUTHOR_AVATAR = aliased(Upload, name="author_avatar")
_LAST_POSTER = aliased(Member, name="last_poster")
_LAST_POSTER_AVATAR = aliased(Upload, name="last_poster_avatar")
# The member reading a page, in statements built once for every viewer of a kind.
_VIEWER_ID = bindparam("viewer_id", type_=Integer)


# --- small read models ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorView:
    """What ``member_link`` shows of a member: avatar, name and role, and the rank and
    ambassador badges (the rank from the ladder by ``rank_id``). Read with
    :func:`author_columns`, in this order."""

    id: int
    handle: str
    display_name: str
    role: str
    rank_id: int | None = None
    ambassador_badge: str = ""
    avatar_name: str | None = None  # the avatar upload's storage name

    @property
    def avatar_url(self) -> str | None:
        return upload_url(self.avatar_name) if self.avatar_name else None


AUTHOR_WIDTH = len(fields(AuthorView))


def author_columns(member: Any, avatar: Any, prefix: str) -> list[Any]:
    """An :class:`AuthorView`'s columns for the aliased ``member``, labelled ``<prefix>_...``;
    the avatar's comes from ``avatar``, an aliased upload joined by :func:`join_avatar`."""
    return [
        member.id.label(f"{prefix}_id"),
        member.handle.label(f"{prefix}_handle"),
        member.display_name.label(f"{prefix}_name"),
        member.role.label(f"{prefix}_role"),
        member.rank_id.label(f"{prefix}_rank_id"),
        member.ambassador_badge.label(f"{prefix}_badge"),
        avatar.storage_name.label(f"{prefix}_avatar"),
    ]


def join_avatar(query: Any, member: Any, avatar: Any) -> Any:
    """``query`` with ``member``'s avatar upload (if any) joined as ``avatar``."""
    return query.outerjoin(avatar, avatar.id == member.avatar_upload_id)


@dataclass(frozen=True)
class CategoryRef:
    id: int
    slug: str
    name_en: str
    name_ja: str
    colour: str
    kind: str

    @property
    def name(self) -> str:
        return self.name_ja if get_locale() == "ja" and self.name_ja else self.name_en


@dataclass(frozen=True)
class TopicSummary:
    id: int
    title: str
    kind: str
    pinned: bool
    locked: bool
    created_at: datetime
    last_posted_at: datetime
    post_count: int
    reply_count: int
    like_count: int
    view_count: int
    score: int
    accepted_post_id: int | None
    category: CategoryRef
    author: AuthorView
    last_poster: AuthorView | None
    last_read_number: int | None
    # The row this summary was made from (tags included) and is_new: every value the summary
    # holds, as one cheaply hashed tuple (the key of a kept rendering of the row).
    key: tuple[Any, ...] = field(compare=False, repr=False)
    is_new: bool = False
    tags: list[str] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return self.accepted_post_id is not None

    @property
    def unread_count(self) -> int:
        if self.last_read_number is None:
            return 0
        return max(0, self.post_count - self.last_read_number)

    @property
    def url(self) -> str:
        return f"/t/{self.id}"


@dataclass(frozen=True)
class PostView:
    id: int
    topic_id: int
    number: int
    author: AuthorView
    cooked: str
    created_at: datetime
    edited_at: datetime | None
    revision_count: int
    like_count: int
    score: int
    deleted_at: datetime | None
    delete_reason: str
    reply_to_post_id: int | None
    liked: bool
    my_vote: int
    accepted: bool
    # Moderation: shown to staff with a banner (and a held post to its author).
    hidden_at: datetime | None = None
    hidden_reason: str = ""
    needs_approval: bool = False

    @property
    def url(self) -> str:
        return f"/p/{self.id}"


@dataclass
class TopicContext:
    """A topic the viewer may see, its category, its tags and how far the viewer has read."""

    topic: Topic
    category: Category
    last_read_number: int | None
    tags: list[str] = field(default_factory=list)

    @property
    def first_unread_number(self) -> int | None:
        if self.last_read_number is None or self.last_read_number >= self.topic.post_count:
            return None
        return self.last_read_number + 1


# --- keyset cursors -------------------------------------------------------------------------

_BAD_CURSOR = lazy_gettext("This page link is not valid. Go back to the first page.")
# A cursor's numbers are an id (64 bits) or a count, score or post number (32 bits on
# PostgreSQL): a forged one beyond its column names no row, so the link is not valid.
_CURSOR_BOUNDS = {"id": INT64_RANGE, "int": INT32_RANGE}


def _encode(values: Sequence[Any]) -> str:
    parts: list[str] = []
    for value in values:
        if isinstance(value, datetime):
            delta = value.astimezone(UTC) - _EPOCH
            parts.append(str((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds))
        else:
            parts.append(str(int(value)))
    return ".".join(parts)


def _decode(cursor: str, kinds: Sequence[str]) -> list[Any]:
    pieces = cursor.split(".")
    if len(pieces) != len(kinds):
        raise Invalid(_BAD_CURSOR, field="cursor")
    values: list[Any] = []
    try:
        for piece, kind in zip(pieces, kinds, strict=True):
            number = int(piece)
            bound = _CURSOR_BOUNDS.get(kind)
            if bound is not None and number not in bound:
                raise ValueError(kind)
            if kind == "dt":
                values.append(_EPOCH + timedelta(microseconds=number))
            elif kind == "bool":
                values.append(bool(number))
            else:
                values.append(number)
    except (ValueError, OverflowError) as exc:
        raise Invalid(_BAD_CURSOR, field="cursor") from exc
    return values


def after_key(keys: Sequence[tuple[SQLColumnExpression[Any], Any, bool]]) -> ColumnElement[bool]:
    """Rows after the given key in an ORDER BY of (column, value, descending) triples."""
    column, value, descending = keys[0]
    if isinstance(value, bool):
        value = literal(value)  # SQLAlchemy only lets = and IS compare with a bare True/False
    beyond: ColumnElement[bool] = column < value if descending else column > value
    if len(keys) == 1:
        return beyond
    return or_(beyond, and_(column == value, after_key(keys[1:])))


# --- categories -----------------------------------------------------------------------------


async def visible_categories(session: AsyncSession, viewer: Member | None) -> list[Category]:
    role = None if viewer is None else cast(Role, viewer.role)
    statement = prebuilt(
        session,
        ("visible_categories", role),
        lambda _insert: (
            select(Category)
            .where(_bind_points(policy.visible_categories(_viewer_shape(role))))
            .order_by(Category.position, Category.id)
        ),
    )
    rows = await session.execute(statement, {"viewer_points": policy.lifetime_points(viewer)})
    return list(rows.scalars())


async def category_by_slug(session: AsyncSession, viewer: Member | None, slug: str) -> Category:
    """The category at ``slug`` if the viewer may see it (else 404). One row by a unique key,
    so the visibility rule is applied to it in Python, by the policy. A read session gets it
    kept, as :func:`get_topic` does."""
    category: Category | None = None
    stored = await driver_rows(
        session, "forums.category_by_slug", _category_by_slug(), {"slug": slug}, read_only=True
    )
    if stored is not None:
        rows, convert = stored
        if rows:
            category = _kept_categories.get(
                rows[0], _detached, Category, _CATEGORY_ATTRIBUTES, convert(rows[0])
            )
    else:
        statement = prebuilt(
            session,
            "category_by_slug",
            lambda _insert: select(Category).where(Category.slug == bindparam("slug")),
        )
        category = await session.scalar(statement, {"slug": slug})
    if category is None or not policy.can_see_category(viewer, category):
        raise NotFound()
    return category


@lru_cache(maxsize=1)
def _category_by_slug() -> Any:
    return select(*(getattr(Category, name) for name in _CATEGORY_ATTRIBUTES)).where(
        Category.slug == bindparam("slug")
    )


# --- topic lists ----------------------------------------------------------------------------


# How a topic list's statement reads a tag's topics (see _tag_share), and a "top" list's period.
_COMMON_TAG, _RARE_TAG = "common", "rare"
_RECENT, _LONG = "recent", "long"
# From a month up, a "top" list's period is read along the "top" index rather than by date.
LONG_PERIOD_DAYS = 30
# The unanswered questions, as the partial index of them says (migration 0024).
UNANSWERED = [
    Topic.kind == literal_column("'question'", Topic.kind.type),
    Topic.reply_count == literal_column("0", Integer),
]


def _tag_share_query(_insert: Any) -> Any:
    return select(Tag.id, Tag.topic_count, select(func.max(Topic.id)).scalar_subquery()).where(
        Tag.name == bindparam("name", type_=Tag.name.type)
    )


async def _tag_share(session: AsyncSession, name: str) -> tuple[int, str] | None:
    """The tag's id and how its list reads its topics, or None if no topic ever had it.

    A common tag's page walks the list's own index and looks each topic's tag up: with the
    tag on a share s of the topics, a page reads about 31 / s of them. A rare tag's topics
    are read by key and sorted: as many as it has. The two cost the same where the tag is on
    about sqrt(31 x topics) of them (800 of 20,000). Reading all of them cost 30 ms for a tag
    on 7,000 of 20,000 topics on SQLite (bench/ANALYSIS.md, session 36)."""
    rows = await read_prebuilt(session, "forums.tag_share", _tag_share_query, {"name": name})
    if not rows:
        return None
    tag_id, count, topics = rows[0]
    return tag_id, _tag_reading(count, topics or 0)


def _tag_reading(tagged: int, topics: int) -> str:
    """How a list reads the topics of a tag on ``tagged`` of about ``topics`` topics."""
    return _COMMON_TAG if tagged * tagged > (TOPICS_PER_PAGE + 1) * topics else _RARE_TAG


def _order_keys(sort: str, pinned_first: bool) -> list[tuple[SQLColumnExpression[Any], str, str]]:
    """(column, cursor kind, row attribute) for each ORDER BY key, all descending."""
    if sort == "newest":
        return [(Topic.created_at, "dt", "created_at"), (Topic.id, "id", "id")]
    if sort == "top":
        return [(Topic.like_count, "int", "like_count"), (Topic.id, "id", "id")]
    keys: list[tuple[SQLColumnExpression[Any], str, str]] = [
        (Topic.last_posted_at, "dt", "last_posted_at"),
        (Topic.id, "id", "id"),
    ]
    if pinned_first:
        keys.insert(0, (Topic.pinned, "bool", "pinned"))
    return keys


_TOPIC_LIST_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_POINTS_STAND_IN = -718_281_828  # a viewer's lifetime points while a statement is built


class _ViewerShape:
    """Stands for every viewer with one role when a statement is built once for all of them:
    the visibility rules read the role from it, and get the member id as the bound parameter
    ``viewer_id`` and the lifetime points as a stand-in value that becomes ``viewer_points``."""

    def __init__(self, role: Role) -> None:
        self.id = _VIEWER_ID
        self.role = role
        self.lifetime_points = _POINTS_STAND_IN

    # The same rules as a member's (the visibility functions read these).
    is_staff = Member.is_staff
    can_moderate = Member.can_moderate


def _viewer_shape(role: Role | None) -> Member | None:
    return None if role is None else cast(Member, _ViewerShape(role))


def _bind_points(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with the stand-in lifetime points replaced by the parameter viewer_points."""

    def replace(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and element.value == _POINTS_STAND_IN:
            return bindparam("viewer_points", type_=Integer)
        return None

    return replacement_traverse(clause, {}, replace)


def _topic_list_statement(
    viewer: Member | None,
    shape: tuple[Any, ...],
    keys: list[tuple[SQLColumnExpression[Any], str, str]],
) -> Any:
    """The topic list query for one shape of request (see topic_list), with every value a
    bound parameter: built once, its compiled form is then found without rebuilding it."""
    sqlite, role, _category, by_tag, _author, _topic, _status, _sort, _since, _after, limit = shape
    member = _viewer_shape(role)
    author = _AUTHOR
    last = _LAST_POSTER
    read_column: SQLColumnExpression[Any] = (
        TopicRead.last_read_number if member is not None else null().label("last_read_number")
    )
    query = (
        select(  # _summary reads these by position: keep the two in step
            Topic.id,
            Topic.title,
            Topic.kind,
            Topic.pinned,
            Topic.locked,
            Topic.created_at,
            Topic.last_posted_at,
            Topic.post_count,
            Topic.reply_count,
            Topic.like_count,
            Topic.view_count,
            Topic.score,
            Topic.accepted_post_id,
            Category.id.label("category_id"),
            Category.slug,
            Category.name_en,
            Category.name_ja,
            Category.colour,
            Category.kind.label("category_kind"),
            *author_columns(author, _AUTHOR_AVATAR, "author"),
            *author_columns(last, _LAST_POSTER_AVATAR, "last"),
            read_column,
            _tag_names(sqlite).label("tag_names"),
        )
        .join(Category, Category.id == Topic.category_id)
        .join(author, author.id == Topic.author_id)
        .outerjoin(last, last.id == Topic.last_poster_id)
    )
    query = join_avatar(join_avatar(query, author, _AUTHOR_AVATAR), last, _LAST_POSTER_AVATAR)
    if member is not None:
        query = query.outerjoin(
            TopicRead, and_(TopicRead.topic_id == Topic.id, TopicRead.member_id == _VIEWER_ID)
        )
    conditions = _topic_list_conditions(member, shape, keys)
    order = [column.desc() for column, _kind, _name in keys]
    count = page_limit(limit + 1, sqlite=sqlite)
    if by_tag == _RARE_TAG:
        # The tag's few topics by key, sorted on their own columns, and only the page's
        # joined to the rest: sorting whole rows cost 10 us a topic (7 ms for a tag on 700).
        page = (
            select(Topic.id)
            .join(Category, Category.id == Topic.category_id)
            .where(*conditions)
            .order_by(*order)
            .limit(count)
            .correlate(None)
        )
        conditions = [Topic.id.in_(page)]
    return query.where(*conditions).order_by(*order).limit(count)


def _topic_list_conditions(
    member: Member | None,
    shape: tuple[Any, ...],
    keys: list[tuple[SQLColumnExpression[Any], str, str]],
) -> list[ColumnElement[bool]]:
    """What a topic list's rows meet (``categories`` joined), for one shape of request."""
    (
        _sqlite,
        _role,
        by_category,
        by_tag,
        by_author,
        by_topic,
        status,
        _sort,
        since,
        after,
        _limit,
    ) = shape
    conditions = [_bind_points(policy.visible_topics(member))]
    if by_category:
        conditions.append(Topic.category_id == bindparam("category_id", type_=Integer))
    tag_id: ColumnElement[int] = bindparam("tag_id", type_=Integer)
    if isinstance(by_tag, tuple):  # a common tag's id, written in (see topic_list)
        by_tag, written = by_tag
        tag_id = literal_column(str(int(written)), Integer)
    if by_tag == _COMMON_TAG:
        # Along the index of the list's order, each topic's tag looked up by key: a page is
        # found within the first few hundred topics.
        conditions.append(
            select(TopicTag.topic_id)
            .where(TopicTag.topic_id == Topic.id, TopicTag.tag_id == tag_id)
            .exists()
        )
    elif by_tag == _RARE_TAG:
        conditions.append(Topic.id.in_(select(TopicTag.topic_id).where(TopicTag.tag_id == tag_id)))
    if by_author:
        conditions.append(Topic.author_id == bindparam("author_id", type_=Integer))
    if by_topic:
        conditions.append(Topic.id == bindparam("topic_id", type_=Integer))
    if status == "solved":
        conditions.append(Topic.accepted_post_id.is_not(None))
    elif status == "unsolved":
        conditions += [Topic.kind == "question", Topic.accepted_post_id.is_(None)]
    elif status == "unanswered":
        # Written as the partial index's own condition (ix_topics_unanswered), so that both
        # databases see they may read it.
        conditions += UNANSWERED
    since_value = bindparam("since", type_=Topic.created_at.type)
    if since == _RECENT:
        # A short period's topics are read by date, then sorted. Both bounds given, both
        # planners expect few rows from a period they cannot see (PostgreSQL's plan made
        # once for any period walked the "top" index: 9-12 ms for a day at full scale).
        conditions.append(
            Topic.created_at.between(since_value, bindparam("until", type_=Topic.created_at.type))
        )
    elif since == _LONG:
        # A long period's are read along the "top" index (most liked first) and a page's
        # worth kept. Left to themselves, both databases read a year's topics by date (half of
        # them) and sorted them; and PostgreSQL, which could tell the period's share from its
        # statistics, planned the statement afresh at each request (2 ms).
        conditions.append(unindexed(Topic.created_at) >= since_value)
    if after:
        conditions.append(
            after_key(
                [
                    (column, bindparam(f"after_{index}", type_=cast(Any, column).type), True)
                    for index, (column, _kind, _name) in enumerate(keys)
                ]
            )
        )
    return conditions


# Where a topic-list row's author, last poster and read position begin.
_AUTHOR_AT = 19
_LAST_AT = _AUTHOR_AT + AUTHOR_WIDTH
_READ_AT = _LAST_AT + AUTHOR_WIDTH


def _summary(raw: tuple[Any, ...], convert: Converter, sqlite: bool) -> TopicSummary:
    """A topic-list row (the columns of _topic_list_statement, in order, as the database gave
    them) as a summary, for any reader (not new to anyone: see :func:`_for_reader`). Rows are
    unpacked by position: a page of 30 rows read by column name cost more than its query."""
    row = convert(raw)
    (
        topic_id,
        title,
        kind,
        pinned,
        locked,
        created_at,
        last_posted_at,
        post_count,
        reply_count,
        like_count,
        view_count,
        score,
        accepted_post_id,
    ) = row[:13]
    return TopicSummary(
        id=topic_id,
        title=title,
        kind=kind,
        pinned=pinned,
        locked=locked,
        created_at=created_at,
        last_posted_at=last_posted_at,
        post_count=post_count,
        reply_count=reply_count,
        like_count=like_count,
        view_count=view_count,
        score=score,
        accepted_post_id=accepted_post_id,
        category=CategoryRef(*row[13:19]),
        author=AuthorView(*row[_AUTHOR_AT:_LAST_AT]),
        last_poster=AuthorView(*row[_LAST_AT:_READ_AT]) if row[_LAST_AT] is not None else None,
        last_read_number=row[_READ_AT],
        key=(raw, False),
        tags=_split_tags(row[_READ_AT + 1], sqlite),
    )


def _for_reader(summary: TopicSummary, viewer: Member | None, new_after: datetime) -> TopicSummary:
    """The summary as ``viewer`` sees it: new to a member who has not opened it, was not its
    author and was around before it was started."""
    if (
        viewer is None
        or summary.last_read_number is not None
        or summary.author.id == viewer.id
        or summary.created_at <= new_after
    ):
        return summary
    return replace(summary, is_new=True, key=(summary.key[0], True))


# Summaries kept per process, by the row as the database gave it (every value a summary holds
# comes from it, so a kept one is never stale): a row seen before costs neither converting its
# values nor building its objects (on SQLite a fifth of a topic list's instructions).
_summaries: Kept[tuple[Any, ...], TopicSummary] = Kept(4096)


async def topic_list(
    session: AsyncSession,
    viewer: Member | None,
    *,
    category_id: int | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    topic_id: int | None = None,
    sort: str = "activity",
    period: str = "all",
    status: str | None = None,
    cursor: str | None = None,
    limit: int = TOPICS_PER_PAGE,
) -> tuple[list[TopicSummary], str | None]:
    """One page of topics the viewer may see, newest activity first by default."""
    if sort not in SORTS:
        raise Invalid(lazy_gettext("Choose one of the offered values."), field="sort")
    if period not in PERIODS:
        raise Invalid(lazy_gettext("Choose one of the offered values."), field="period")
    if status is not None and status not in STATUSES:
        raise Invalid(lazy_gettext("Choose one of the offered values."), field="status")
    keys = _order_keys(sort, pinned_first=category_id is not None and sort == "activity")
    days = PERIODS[period]
    since = None
    if sort == "top" and days is not None:
        since = _RECENT if days < LONG_PERIOD_DAYS else _LONG
    sqlite = dialect_name(session) == "sqlite"
    tag_mode: str | tuple[str, int] | None = None
    params: dict[str, Any] = {}
    if tag:
        found = await _tag_share(session, tag)
        if found is None:
            return [], None  # nobody has used this tag
        params["tag_id"], tag_mode = found
        if tag_mode == _COMMON_TAG and not sqlite:
            # Written into the statement on PostgreSQL, which otherwise planned it afresh at
            # each request (3.4 ms of planning for 1 ms of work: its plan made once for any
            # tag expects a tag on a twentieth of the topics). Few tags are common: at most
            # (topics x tags a topic) / sqrt(31 x topics), so few statements are kept.
            tag_mode = (tag_mode, params.pop("tag_id"))
    shape = (
        sqlite,
        None if viewer is None else viewer.role,
        category_id is not None,
        tag_mode,
        author_id is not None,
        topic_id is not None,
        status,
        sort,
        since,
        bool(cursor),
        limit,
    )
    if viewer is not None:
        params["viewer_id"] = viewer.id
        params["viewer_points"] = policy.lifetime_points(viewer)
    if category_id is not None:
        params["category_id"] = category_id
    if author_id is not None:
        params["author_id"] = author_id
    if topic_id is not None:
        params["topic_id"] = topic_id
    if since:
        now = clock.now()
        params["since"] = now - timedelta(days=days or 0)
        if since == _RECENT:
            params["until"] = now
    if cursor:
        values = _decode(cursor, [kind for _column, kind, _name in keys])
        params.update((f"after_{index}", value) for index, value in enumerate(values))
    statement = _TOPIC_LIST_STATEMENTS.get(shape)
    if statement is None:
        statement = _topic_list_statement(viewer, shape, keys)
        _TOPIC_LIST_STATEMENTS[shape] = statement
    rows, convert = await _stored_rows(session, ("forums.topic_list", shape), statement, params)

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_row = convert(rows[-1])
        positions = _positions(statement)
        next_cursor = _encode([last_row[positions[name]] for _column, _kind, name in keys])

    new_after = clock.now() - timedelta(days=NEW_TOPIC_DAYS)
    if viewer is not None and viewer.created_at > new_after:
        new_after = viewer.created_at
    topics = [
        _for_reader(_summaries.get(row, _summary, row, convert, sqlite), viewer, new_after)
        for row in rows
    ]
    return topics, next_cursor


async def _stored_rows(
    session: AsyncSession, key: tuple[Any, ...], statement: Any, params: dict[str, Any]
) -> tuple[list[tuple[Any, ...]], Converter]:
    """The statement's rows as the database gave them (a key for what is kept of them; on
    SQLite one JSON text per row) and how to convert one to SQLAlchemy's values: straight
    from the driver where :func:`driver_rows_packed` can, else through SQLAlchemy, already
    converted."""
    found = await driver_rows_packed(session, key, statement, params)
    if found is not None:
        return found
    return [tuple(row) for row in (await execute_core(session, statement, params)).all()], _as_is


def _as_is(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


@lru_cache(maxsize=256)
def _positions(statement: Any) -> dict[str, int]:
    """Where each named column of a topic-list statement is in its rows."""
    return {name: index for index, name in enumerate(statement.selected_columns.keys())}


async def topic_summary(
    session: AsyncSession, viewer: Member | None, topic_id: int
) -> TopicSummary:
    topics, _cursor = await topic_list(session, viewer, topic_id=topic_id, limit=1)
    if not topics:
        raise NotFound()
    return topics[0]


async def popular_tags(session: AsyncSession, limit: int = 30) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Tag.name, Tag.topic_count)
        .where(Tag.topic_count > 0)
        .order_by(Tag.topic_count.desc(), Tag.name)
        .limit(limit)
    )
    return [(name, count) for name, count in rows]


# --- one topic ------------------------------------------------------------------------------


async def get_topic(session: AsyncSession, viewer: Member | None, topic_id: int) -> TopicContext:
    """The only way to fetch a topic for a viewer: 404 for what they may not see."""
    sqlite = dialect_name(session) == "sqlite"
    member = viewer is not None
    params: dict[str, Any] = {"topic_id": topic_id}
    if viewer is not None:
        params["viewer_id"] = viewer.id
    stored = await driver_rows(
        session,
        ("forums.topic", member),
        _topic_statement(sqlite, member, flat=True),
        params,
        read_only=True,
    )
    if stored is not None:
        rows, convert = stored
        if not rows:
            raise NotFound()
        raw = rows[0]
        topic, category = _kept_topics.get(raw[:_TOPIC_AND_CATEGORY], _detached_pair, raw, convert)
        last_read, tag_names = raw[_TOPIC_AND_CATEGORY:]
    else:
        row = (
            await session.execute(_topic_statement(sqlite, member, flat=False), params)
        ).one_or_none()
        if row is None:
            raise NotFound()
        topic, category, last_read, tag_names = row
    # The category's visibility is checked here rather than in SQL (the statement is then the
    # same for every viewer of a kind, and SQLAlchemy reuses its compiled form).
    if not policy.can_see_topic(viewer, category, topic):
        raise NotFound()
    return TopicContext(topic, category, last_read, _split_tags(tag_names, sqlite))


# A read session's topic and category: detached objects made once per process from
# their row as stored and kept by it (a changed row is a new key, so none is stale). What a
# page or a reply form reads of them is their columns; read sessions cannot write, so nothing
# done to one could reach the database. Write sessions load their own, attached.
_TOPIC_ATTRIBUTES = tuple(attr.key for attr in inspect(Topic).column_attrs)
_CATEGORY_ATTRIBUTES = tuple(attr.key for attr in inspect(Category).column_attrs)
_TOPIC_AND_CATEGORY = len(_TOPIC_ATTRIBUTES) + len(_CATEGORY_ATTRIBUTES)
_kept_topics: Kept[tuple[Any, ...], tuple[Topic, Category]] = Kept(1024)
_kept_categories: Kept[tuple[Any, ...], Category] = Kept(256)

M = TypeVar("M")


def _detached(model: type[M], attributes: Sequence[str], values: Sequence[Any]) -> M:
    """An object of ``model`` as if loaded with these values, in no session."""
    instance = model(**dict(zip(attributes, values, strict=True)))
    make_transient_to_detached(instance)
    return instance


def _detached_pair(raw: tuple[Any, ...], convert: Converter) -> tuple[Topic, Category]:
    values = convert(raw)
    split = len(_TOPIC_ATTRIBUTES)
    return (
        _detached(Topic, _TOPIC_ATTRIBUTES, values[:split]),
        _detached(Category, _CATEGORY_ATTRIBUTES, values[split:_TOPIC_AND_CATEGORY]),
    )


_TOPIC_STATEMENTS: dict[tuple[bool, bool, bool], Any] = {}


def _topic_statement(sqlite: bool, member: bool, *, flat: bool) -> Any:
    """The topic query, built once per dialect and kind of viewer (anonymous or signed in),
    with the topic and viewer as bound parameters: a statement object that is reused keeps
    its cache key, so SQLAlchemy finds its compiled form without rebuilding either. ``flat``:
    the topic's and the category's columns one by one (for the driver) instead of the two
    entities."""
    key = (sqlite, member, flat)
    statement = _TOPIC_STATEMENTS.get(key)
    if statement is None:
        read_column: SQLColumnExpression[Any] = (
            TopicRead.last_read_number if member else null().label("last_read_number")
        )
        entities: list[Any] = [Topic, Category]
        if flat:
            entities = [
                *(getattr(Topic, name) for name in _TOPIC_ATTRIBUTES),
                *(getattr(Category, name) for name in _CATEGORY_ATTRIBUTES),
            ]
        statement = (
            select(*entities, read_column, _tag_names(sqlite).label("tag_names"))
            .join(Category, Category.id == Topic.category_id)
            .where(Topic.id == bindparam("topic_id", type_=Integer))
        )
        if member:
            statement = statement.outerjoin(
                TopicRead,
                and_(TopicRead.topic_id == Topic.id, TopicRead.member_id == _VIEWER_ID),
            )
        _TOPIC_STATEMENTS[key] = statement
    return statement


# Tag names are word characters and hyphens (schemas.TAG_RE), so a comma never occurs in one.
_TAG_SEPARATOR = ","


def _tag_names(sqlite: bool) -> Any:
    """A topic's tag names in one column (a topic page or a list then needs no query of its
    own for them); :func:`_split_tags` makes them a list in name order."""
    if sqlite:
        names: Any = func.group_concat(Tag.name, _TAG_SEPARATOR)
    else:
        names = func.string_agg(
            Tag.name, aggregate_order_by(literal_column(f"'{_TAG_SEPARATOR}'"), Tag.name)
        )
    return (
        select(names)
        .join(TopicTag, TopicTag.tag_id == Tag.id)
        .where(TopicTag.topic_id == Topic.id)
        .correlate(Topic)
        .scalar_subquery()
    )


def _split_tags(tag_names: str | None, sqlite: bool) -> list[str]:
    """The names of a :func:`_tag_names` column, in name order: PostgreSQL ordered them by its
    collation, as ORDER BY does; SQLite's group_concat has no order, and SQLite compares
    names by code point (BINARY), as Python's sort does."""
    if not tag_names:
        return []
    names = tag_names.split(_TAG_SEPARATOR)
    return sorted(names) if sqlite else names


async def get_post(
    session: AsyncSession, viewer: Member | None, post_id: int
) -> tuple[Post, TopicContext]:
    """A post and its topic, both visible to the viewer (removed posts: staff and author)."""
    topic_id = await session.scalar(select(Post.topic_id).where(Post.id == post_id))
    if topic_id is None:
        raise NotFound()
    context = await get_topic(session, viewer, topic_id)
    post = await session.get(Post, post_id)
    if post is None or not moderation.can_see_post(viewer, post):
        raise NotFound()
    return post, context


def _post_query(viewer: Member | None, topic_id: int | None, question: bool) -> Any:
    """The posts of a topic ``viewer`` may see; with ``topic_id`` None, the topic is the bound
    parameter ``topic_id``."""
    author = _AUTHOR
    liked: ColumnElement[Any] = literal(False)
    vote: ColumnElement[Any] = literal(0)
    query = select(
        Post.id,
        Post.topic_id,
        Post.number,
        Post.cooked,
        Post.created_at,
        Post.edited_at,
        Post.revision_count,
        Post.like_count,
        Post.score,
        Post.deleted_at,
        Post.delete_reason,
        Post.reply_to_post_id,
        Post.hidden_at,
        Post.hidden_reason,
        Post.needs_approval,
        *author_columns(author, _AUTHOR_AVATAR, "author"),
    ).join(author, author.id == Post.author_id)
    query = join_avatar(query, author, _AUTHOR_AVATAR)
    if viewer is not None:
        liked = PostLike.member_id.is_not(None)
        query = query.outerjoin(
            PostLike, and_(PostLike.post_id == Post.id, PostLike.member_id == viewer.id)
        )
        if question:
            vote = func.coalesce(AnswerVote.value, 0)
            query = query.outerjoin(
                AnswerVote, and_(AnswerVote.post_id == Post.id, AnswerVote.member_id == viewer.id)
            )
    return query.add_columns(liked.label("liked"), vote.label("my_vote")).where(
        Post.topic_id == (bindparam("topic_id", type_=Integer) if topic_id is None else topic_id),
        moderation.visible_posts(viewer),
    )


_POST_AUTHOR_AT = 15  # where a post row's author begins


def _post_view(row: Any, accepted_post_id: int | None) -> PostView:
    """A row of :func:`_post_query` as a post. Unpacked by position: read by column name, the
    rows of a topic page cost more than the query (py-spy: 29% of an anonymous topic page)."""
    (
        post_id,
        topic_id,
        number,
        cooked,
        created_at,
        edited_at,
        revision_count,
        like_count,
        score,
        deleted_at,
        delete_reason,
        reply_to_post_id,
        hidden_at,
        hidden_reason,
        needs_approval,
    ) = row[:_POST_AUTHOR_AT]
    liked, my_vote = row[_POST_AUTHOR_AT + AUTHOR_WIDTH :]
    return PostView(
        id=post_id,
        topic_id=topic_id,
        number=number,
        author=AuthorView(*row[_POST_AUTHOR_AT : _POST_AUTHOR_AT + AUTHOR_WIDTH]),
        cooked=cooked,
        created_at=created_at,
        edited_at=edited_at,
        revision_count=revision_count,
        like_count=like_count,
        score=score,
        deleted_at=deleted_at,
        delete_reason=delete_reason,
        reply_to_post_id=reply_to_post_id,
        liked=bool(liked),
        my_vote=int(my_vote or 0),
        accepted=post_id == accepted_post_id,
        hidden_at=hidden_at,
        hidden_reason=hidden_reason,
        needs_approval=bool(needs_approval),
    )


def _post_view_from(raw: tuple[Any, ...], convert: Converter, accepted: int | None) -> PostView:
    return _post_view(convert(raw), accepted)


def default_start(context: TopicContext) -> int:
    """Where a discussion opens: at the first unread post (with a little context before it)."""
    first_unread = context.first_unread_number
    if first_unread is None or first_unread <= POSTS_PER_PAGE:
        return 0
    return first_unread - 3


async def posts_page(
    session: AsyncSession,
    viewer: Member | None,
    context: TopicContext,
    *,
    cursor: str | None = None,
    limit: int = POSTS_PER_PAGE,
) -> tuple[list[PostView], str | None]:
    """Posts of a topic, in one query whatever their number.

    A discussion reads in order (the cursor is the last post number seen). A question shows
    the question, then the accepted answer, then answers by score."""
    topic = context.topic
    params: dict[str, Any] = {"topic_id": topic.id}
    if viewer is not None:
        params["viewer_id"] = viewer.id
    if topic.is_question:
        params["accepted_id"] = topic.accepted_post_id or 0
        if cursor:
            values = _decode(cursor, ["int"] * 4)
            params.update(zip(_QUESTION_CURSOR, values, strict=True))
    else:
        params["after"] = _decode(cursor, ["int"])[0] if cursor else 0
    shape = (_viewer_kind(viewer), topic.is_question, bool(cursor), limit)
    statement = _posts_statement(*shape)
    rows, convert = await _stored_rows(session, ("forums.posts", shape), statement, params)
    accepted = topic.accepted_post_id
    posts = [
        _post_views.get((row, accepted), _post_view_from, row, convert, accepted)
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        tail = posts[-1]
        if topic.is_question:
            next_cursor = _encode(
                [
                    int(tail.number == 1),
                    int(tail.id == topic.accepted_post_id),
                    tail.score,
                    tail.number,
                ]
            )
        else:
            next_cursor = str(tail.number)
    return posts, next_cursor


# Posts kept per process by their row as the database gave it and the topic's accepted answer
# (all a post view holds), as topic-list summaries are.
_post_views: Kept[tuple[Any, ...], PostView] = Kept(4096)


_QUESTION_CURSOR = ("after_first", "after_accepted", "after_score", "after_number")
_POSTS_STATEMENTS: dict[tuple[str, bool, bool, int], Any] = {}


def _viewer_kind(viewer: Member | None) -> str:
    """What the post visibility rules tell viewers apart by: anonymous, moderator or not."""
    if viewer is None:
        return "anonymous"
    return "moderator" if moderation.sees_hidden(viewer) else "member"


def _kind_shape(kind: str) -> Member | None:
    """The stand-in viewer of a :func:`_viewer_kind`."""
    if kind == "anonymous":
        return None
    return _viewer_shape(Role.moderator if kind == "moderator" else Role.member)


def _posts_statement(kind: str, question: bool, after_cursor: bool, limit: int) -> Any:
    """The posts query, built once per kind of viewer and page shape (see _topic_statement)."""
    key = (kind, question, after_cursor, limit)
    statement = _POSTS_STATEMENTS.get(key)
    if statement is not None:
        return statement
    statement = _post_query(_kind_shape(kind), None, question)
    if question:
        first = case((Post.number == 1, 1), else_=0)
        accepted = case((Post.id == bindparam("accepted_id", type_=Integer), 1), else_=0)
        keys: list[tuple[SQLColumnExpression[Any], bool]] = [
            (first, True),
            (accepted, True),
            (Post.score, True),
            (Post.number, False),
        ]
        if after_cursor:
            statement = statement.where(
                after_key(
                    [
                        (col, bindparam(name, type_=Integer), desc)
                        for (col, desc), name in zip(keys, _QUESTION_CURSOR, strict=True)
                    ]
                )
            )
        statement = statement.order_by(*[col.desc() if desc else col.asc() for col, desc in keys])
    else:
        statement = statement.where(Post.number > bindparam("after", type_=Integer)).order_by(
            Post.number
        )
    statement = statement.limit(limit + 1)
    _POSTS_STATEMENTS[key] = statement
    return statement


_ONE_POST_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _one_post_statement(kind: str, question: bool) -> Any:
    """One post of a topic as a kind of viewer may see it (the parameters ``topic_id``,
    ``post_id`` and, signed in, ``viewer_id``), built once as the topic page's statements are:
    built for each request, it cost more than the rest of a reply (bench/ANALYSIS.md, session
    34)."""
    key = (kind, question)
    statement = _ONE_POST_STATEMENTS.get(key)
    if statement is None:
        statement = _post_query(_kind_shape(kind), None, question).where(
            Post.id == bindparam("post_id", type_=Integer)
        )
        _ONE_POST_STATEMENTS[key] = statement
    return statement


async def _one_post(
    session: AsyncSession, viewer: Member | None, topic: Topic, post_id: int
) -> PostView:
    """One post of ``topic`` as ``viewer`` may see it; what they may not see (awaiting
    approval, hidden, another topic's) answers 404."""
    shape = (_viewer_kind(viewer), topic.is_question)
    params: dict[str, Any] = {"topic_id": topic.id, "post_id": post_id}
    if viewer is not None:
        params["viewer_id"] = viewer.id
    rows, convert = await _stored_rows(
        session, ("forums.post", *shape), _one_post_statement(*shape), params
    )
    if not rows:
        raise NotFound()
    return _post_view(convert(rows[0]), topic.accepted_post_id)


async def post_view(
    session: AsyncSession, viewer: Member | None, post: Post, topic: Topic
) -> PostView:
    """A loaded post as the viewer sees it (404 if they may not)."""
    return await _one_post(session, viewer, topic, post.id)


async def post_in_topic(
    session: AsyncSession, viewer: Member | None, context: TopicContext, post_id: int
) -> PostView:
    """One post of a topic by its id, as a live update fetches it (404 if the viewer may not
    see it)."""
    return await _one_post(session, viewer, context.topic, post_id)


async def quotable_source(session: AsyncSession, topic_id: int, post_id: int) -> str | None:
    source: str | None = await session.scalar(
        select(Post.source).where(
            Post.id == post_id, Post.topic_id == topic_id, Post.deleted_at.is_(None)
        )
    )
    return source


async def revisions(session: AsyncSession, post_id: int) -> list[PostRevision]:
    rows = await session.scalars(
        select(PostRevision)
        .where(PostRevision.post_id == post_id)
        .order_by(PostRevision.number.desc())
    )
    return list(rows)


async def member_by_handle(session: AsyncSession, handle: str) -> Member | None:
    result: Member | None = await session.scalar(
        select(Member).where(Member.handle == handle.strip().lower().lstrip("@"))
    )
    return result
