"""Every write in the forums: topics, replies, edits, removals, likes, tags, categories, views.

Services only flush; the request commits. Each action is recorded with ``activity.record`` in
the same transaction, and counters on topics and categories change with the rows they count
(atomic ``x = x + 1`` updates, so concurrent requests cannot lose a count).
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.activity import service as activity
from app.activity import verbs
from app.db import after_commit, get_database
from app.forums import counters, markdown, policy, queries
from app.forums.schemas import CategoryIn, PostEditIn, ReplyIn, TopicIn, TopicModerationIn
from app.kit import clock
from app.kit.errors import Conflict, Forbidden, Invalid, NotFound
from app.kit.i18n import lazy_gettext
from app.kit.security import sha256_hex
from app.kit.sql import (
    database_key,
    dialect_name,
    insert,
    prebuilt,
    read_prebuilt,
    run_prebuilt,
    sync_loaded,
)
from app.models import (
    SEARCH_TABLE,
    Category,
    Member,
    Post,
    PostLike,
    PostRevision,
    Tag,
    Topic,
    TopicRead,
    TopicTag,
    TopicView,
)
from app.moderation import policy as moderation

logger = logging.getLogger(__name__)

MAX_LOOKUPS = 100


# --- helpers ----------------------------------------------------------------------------------


def _bump_update(model: Any, names: tuple[str, ...]) -> Callable[[Any], Any]:
    def build(_insert: Any) -> Any:
        table = model.__table__
        return (
            update(table)
            .where(table.c.id == bindparam("p_id"))
            .values({name: table.c[name] + bindparam(f"p_{name}") for name in names})
            .returning(*(table.c[name] for name in names))
        )

    return build


async def _bump(
    session: AsyncSession, model: Any, row_id: int, **deltas: int
) -> Mapping[str, Any] | None:
    """Add to a row's counters (atomically, in the database); a copy of the row loaded in the
    session shows the new counts. Returns the new counts (None if the row is gone)."""
    names = tuple(sorted(deltas))
    params: dict[str, Any] = {f"p_{name}": delta for name, delta in deltas.items()}
    params["p_id"] = row_id
    row = (
        await run_prebuilt(
            session, ("forums.bump", model, names), _bump_update(model, names), params
        )
    ).one_or_none()
    if row is None:
        return None
    counts: Mapping[str, Any] = row._mapping
    sync_loaded(session, model, row_id, counts)
    return counts


async def _cook(
    session: AsyncSession, viewer: Member, source: str, category: Category
) -> tuple[markdown.Cooked, list[int]]:
    """Render a post, looking up its mentions and quotes; also returns the mentioned ids."""
    handles, quote_ids = markdown.scan(source)
    members: dict[str, int] = {}
    if handles:
        rows = await session.execute(
            select(Member.handle, Member.id).where(Member.handle.in_(sorted(handles)[:MAX_LOOKUPS]))
        )
        members = {str(handle): int(member_id) for handle, member_id in rows}
    quotes: dict[int, markdown.QuotedPost] = {}
    if quote_ids:
        # A quote names its author only when every reader of the new post could see the
        # quoted one: same category, or a category open to everyone.
        quoted = await session.execute(
            select(Post.id, Post.author_id, Member.handle)
            .join(Member, Member.id == Post.author_id)
            .join(Topic, Topic.id == Post.topic_id)
            .join(Category, Category.id == Topic.category_id)
            .where(
                Post.id.in_(sorted(quote_ids)[:MAX_LOOKUPS]),
                Post.deleted_at.is_(None),
                policy.visible_topics(viewer),
                or_(Category.id == category.id, Category.visibility == policy.EVERYONE),
            )
        )
        quotes = {
            post_id: markdown.QuotedPost(post_id, author_id, handle)
            for post_id, author_id, handle in quoted
        }
    cooked = markdown.cook(source, members=members, quotes=quotes)
    return cooked, [members[handle] for handle in cooked.mentioned_handles]


def _others(ids: list[int], viewer: Member) -> list[int]:
    result: list[int] = []
    for member_id in ids:
        if member_id != viewer.id and member_id not in result:
            result.append(member_id)
    return result


async def index_post(session: AsyncSession, post_id: int, title: str, body: str) -> None:
    """Keep the SQLite FTS5 index in step (PostgreSQL's trigram indexes follow by themselves)."""
    if dialect_name(session) != "sqlite":
        return
    await session.execute(
        text(f"INSERT OR REPLACE INTO {SEARCH_TABLE}(rowid, title, body) VALUES (:id, :t, :b)"),
        {"id": post_id, "t": title, "b": body},
    )


async def unindex_post(session: AsyncSession, post_id: int) -> None:
    if dialect_name(session) != "sqlite":
        return
    await session.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id"), {"id": post_id})


async def _set_tags(session: AsyncSession, topic_id: int, names: list[str]) -> None:
    current = dict(
        (
            await session.execute(
                select(Tag.name, Tag.id)
                .join(TopicTag, TopicTag.tag_id == Tag.id)
                .where(TopicTag.topic_id == topic_id)
            )
        ).all()
    )
    added = [name for name in names if name not in current]
    removed = [tag_id for name, tag_id in current.items() if name not in names]
    if removed:
        await session.execute(
            delete(TopicTag).where(TopicTag.topic_id == topic_id, TopicTag.tag_id.in_(removed))
        )
        await session.execute(
            update(Tag).where(Tag.id.in_(removed)).values(topic_count=Tag.topic_count - 1)
        )
    if added:
        await session.execute(
            insert(session, Tag)
            .values([{"name": name, "topic_count": 0} for name in added])
            .on_conflict_do_nothing(index_elements=[Tag.name])
        )
        ids = list(await session.scalars(select(Tag.id).where(Tag.name.in_(added))))
        await session.execute(
            insert(session, TopicTag).values([{"topic_id": topic_id, "tag_id": i} for i in ids])
        )
        await session.execute(
            update(Tag).where(Tag.id.in_(ids)).values(topic_count=Tag.topic_count + 1)
        )


# --- what a write acts on ---------------------------------------------------------------------


async def writable_topic(
    session: AsyncSession, viewer: Member, topic_id: int
) -> queries.TopicContext:
    """``queries.get_topic`` for the write paths: topic and category in one query (built
    once), with the same visibility rules, checked on the loaded rows (404 for what the viewer
    may not see). No write needs the read marker or the tags, so the context carries
    neither."""
    row = (
        await session.execute(
            prebuilt(session, "forums.writable_topic", _writable_topic_query),
            {"p_topic": topic_id},
        )
    ).one_or_none()
    if row is None or not policy.can_see_topic(viewer, row[1], row[0]):
        raise NotFound()
    return queries.TopicContext(row[0], row[1], None)


def _writable_topic_query(_insert: Any) -> Any:
    return (
        select(Topic, Category)
        .join(Category, Category.id == Topic.category_id)
        .where(Topic.id == bindparam("p_topic"))
    )


def _writable_post_query(_insert: Any) -> Any:
    return (
        select(Post, Topic, Category)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(Post.id == bindparam("p_post"))
    )


async def writable_post(
    session: AsyncSession, viewer: Member, post_id: int
) -> tuple[Post, queries.TopicContext]:
    """``queries.get_post`` for the write paths that change the loaded rows (accepted
    answers): post, topic and category in one query instead of four (built once), with the
    same visibility rules, checked on the loaded rows. Likes read only columns
    (:func:`_likeable`)."""
    row = (
        await session.execute(
            prebuilt(session, "forums.writable_post", _writable_post_query), {"p_post": post_id}
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    post, topic, category = row
    if not policy.can_see_topic(viewer, category, topic) or not moderation.can_see_post(
        viewer, post
    ):
        raise NotFound()
    return post, queries.TopicContext(topic, category, None)


# --- topics and replies -----------------------------------------------------------------------


async def create_topic(session: AsyncSession, viewer: Member, data: TopicIn) -> tuple[Topic, Post]:
    category = await session.get(Category, data.category_id)
    if category is None or not policy.can_see_category(viewer, category):
        raise Invalid(lazy_gettext("Choose a category from the list."), field="category_id")
    policy.check_can_post(viewer, category)
    screened = await moderation.screen_post(
        session, viewer, kind="topic", body=data.body, title=data.title
    )
    data = data.model_copy(update={"body": screened.body, "title": screened.title or data.title})
    cooked, mentioned = await _cook(session, viewer, data.body, category)
    now = clock.now()
    topic = Topic(
        category_id=category.id,
        author_id=viewer.id,
        title=data.title,
        kind=category.kind,
        created_at=now,
        last_posted_at=now,
        last_poster_id=viewer.id,
        post_count=1,
        needs_approval=screened.needs_approval,
    )
    session.add(topic)
    await session.flush()
    post = Post(
        topic_id=topic.id,
        author_id=viewer.id,
        number=1,
        source=data.body,
        cooked=cooked.html,
        plain=cooked.plain,
        created_at=now,
        needs_approval=screened.needs_approval,
    )
    session.add(post)
    await session.flush()
    if data.tags:
        await _set_tags(session, topic.id, data.tags)
    counters.count(session, category.id, topics=1, posts=1)
    await index_post(session, post.id, topic.title, cooked.plain)
    await activity.record(
        session,
        verbs.TOPIC_CREATED,
        actor_id=viewer.id,
        subject=("topic", topic.id),
        data={
            "category_id": category.id,
            "topic_id": topic.id,
            "kind": topic.kind,
            "post_id": post.id,
            "mentions": _others(mentioned, viewer),
        },
    )
    return topic, post


def _topic_replied(_insert: Any) -> Any:
    """A topic's counters and last post moved by a new reply; its new post count is the
    reply's number."""
    table = cast(Table, Topic.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(
            post_count=table.c.post_count + 1,
            reply_count=table.c.reply_count + 1,
            last_posted_at=bindparam("p_at", type_=table.c.last_posted_at.type),
            last_poster_id=bindparam("p_poster"),
        )
        .returning(table.c.post_count, table.c.reply_count)
    )


async def create_reply(
    session: AsyncSession, viewer: Member, topic_id: int, data: ReplyIn
) -> tuple[Post, queries.TopicContext]:
    context = await writable_topic(session, viewer, topic_id)
    topic, category = context.topic, context.category
    policy.check_can_reply(viewer, category, topic)
    screened = await moderation.screen_post(session, viewer, kind="reply", body=data.body)
    data = data.model_copy(update={"body": screened.body})
    reply_to_member_id: int | None = None
    if data.reply_to_post_id is not None:
        reply_to_member_id = await session.scalar(
            select(Post.author_id).where(
                Post.id == data.reply_to_post_id,
                Post.topic_id == topic.id,
                Post.deleted_at.is_(None),
            )
        )
        if reply_to_member_id is None:
            raise Invalid(
                lazy_gettext("You can only reply to a post in this topic."),
                field="reply_to_post_id",
            )
    cooked, mentioned = await _cook(session, viewer, data.body, category)
    now = clock.now()
    number, replies = (
        await run_prebuilt(
            session,
            "forums.topic_replied",
            _topic_replied,
            {"p_id": topic.id, "p_at": now, "p_poster": viewer.id},
        )
    ).one()
    sync_loaded(
        session,
        Topic,
        topic.id,
        {
            "post_count": number,
            "reply_count": replies,
            "last_posted_at": now,
            "last_poster_id": viewer.id,
        },
    )
    post = Post(
        topic_id=topic.id,
        author_id=viewer.id,
        number=number,
        source=data.body,
        cooked=cooked.html,
        plain=cooked.plain,
        reply_to_post_id=data.reply_to_post_id,
        created_at=now,
        needs_approval=screened.needs_approval,
    )
    session.add(post)
    await session.flush()
    counters.count(session, category.id, posts=1)
    await index_post(session, post.id, "", cooked.plain)
    await activity.record(
        session,
        verbs.ANSWER_CREATED if topic.is_question else verbs.POST_CREATED,
        actor_id=viewer.id,
        recipient_id=topic.author_id if topic.author_id != viewer.id else None,
        subject=("post", post.id),
        data={
            "topic_id": topic.id,
            "category_id": category.id,
            "mentions": _others(mentioned, viewer),
            "quoted": _others([quote.author_id for quote in cooked.quoted_posts], viewer),
            "reply_to_member_id": reply_to_member_id,
        },
    )
    return post, context


async def edit_post(
    session: AsyncSession, viewer: Member, post_id: int, data: PostEditIn
) -> tuple[Post, queries.TopicContext]:
    """Change a post; the text before the change is kept as a revision."""
    post, context = await queries.get_post(session, viewer, post_id)
    topic = context.topic
    if post.deleted_at is not None:
        raise Conflict(lazy_gettext("This post was removed; it can no longer be edited."))
    if not policy.can_edit_post(viewer, post):
        raise Forbidden(lazy_gettext("Only the author can edit this post."))
    if topic.locked and not viewer.can_moderate:
        raise Forbidden(lazy_gettext("This topic is locked; its posts can no longer be edited."))
    title = data.title if post.number == 1 and data.title is not None else topic.title
    title_changed = title != topic.title
    if data.body != post.source or title_changed:
        session.add(
            PostRevision(
                post_id=post.id,
                number=post.revision_count + 1,
                title=topic.title if title_changed else None,
                source=post.source,
                editor_id=viewer.id,
            )
        )
        cooked, _mentioned = await _cook(session, viewer, data.body, context.category)
        post.source = data.body
        post.cooked = cooked.html
        post.plain = cooked.plain
        post.revision_count += 1
        post.edited_at = clock.now()
        topic.title = title
        await session.flush()
        await index_post(session, post.id, title if post.number == 1 else "", cooked.plain)
    if post.number == 1 and data.tags is not None and data.tags != context.tags:
        await _set_tags(session, topic.id, data.tags)
        context.tags = list(data.tags)
    return post, context


async def _refresh_last_post(session: AsyncSession, topic_id: int) -> None:
    row = (
        await session.execute(
            select(Post.author_id, Post.created_at)
            .where(Post.topic_id == topic_id, Post.deleted_at.is_(None))
            .order_by(Post.number.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is not None:
        await session.execute(
            update(Topic)
            .where(Topic.id == topic_id)
            .values(last_poster_id=row.author_id, last_posted_at=row.created_at)
        )


async def remove_post(
    session: AsyncSession, viewer: Member, post_id: int, reason: str = ""
) -> tuple[Post, queries.TopicContext]:
    """Soft-delete a post (the author's own, or any by a moderator). Removing the opening post
    removes the topic. The removal is recorded so points and counters can be reversed."""
    post, context = await queries.get_post(session, viewer, post_id)
    topic = context.topic
    if post.deleted_at is not None:
        return post, context
    if not policy.can_delete_post(viewer, post):
        raise Forbidden(lazy_gettext("Only the author or a moderator can delete this post."))
    now = clock.now()
    post.deleted_at = now
    post.deleted_by_id = viewer.id
    post.delete_reason = reason
    if post.number == 1:
        topic.deleted_at = now
        await session.flush()
        counters.count(session, topic.category_id, topics=-1, posts=-1)
    else:
        await session.flush()
        await _bump(session, Topic, topic.id, reply_count=-1)
        counters.count(session, topic.category_id, posts=-1)
        await _refresh_last_post(session, topic.id)
    await unindex_post(session, post.id)
    if topic.accepted_post_id == post.id:
        await set_accepted(session, viewer, topic, None)
    await activity.record(
        session,
        verbs.POST_REMOVED,
        actor_id=viewer.id,
        recipient_id=post.author_id,
        subject=("post", post.id),
        data={
            "topic_id": topic.id,
            "reason": reason,
            "by_staff": viewer.id != post.author_id,
        },
    )
    return post, context


async def restore_post(
    session: AsyncSession, viewer: Member, post_id: int
) -> tuple[Post, queries.TopicContext]:
    if not viewer.can_moderate:
        raise Forbidden(lazy_gettext("Only moderators can restore posts."))
    post, context = await queries.get_post(session, viewer, post_id)
    topic = context.topic
    if post.deleted_at is None:
        return post, context
    post.deleted_at = None
    post.deleted_by_id = None
    post.delete_reason = ""
    if post.number == 1:
        topic.deleted_at = None
        await session.flush()
        counters.count(session, topic.category_id, topics=1, posts=1)
    else:
        await session.flush()
        await _bump(session, Topic, topic.id, reply_count=1)
        counters.count(session, topic.category_id, posts=1)
        await _refresh_last_post(session, topic.id)
    await index_post(session, post.id, topic.title if post.number == 1 else "", post.plain)
    await activity.record(
        session,
        verbs.POST_RESTORED,
        actor_id=viewer.id,
        recipient_id=post.author_id,
        subject=("post", post.id),
        data={"topic_id": topic.id, "reason": "", "by_staff": viewer.id != post.author_id},
    )
    return post, context


async def moderate_topic(
    session: AsyncSession, viewer: Member, topic_id: int, data: TopicModerationIn
) -> queries.TopicContext:
    """Pin, lock or move a topic (moderators)."""
    if not viewer.can_moderate:
        raise Forbidden(lazy_gettext("Only moderators can pin, lock or move topics."))
    context = await queries.get_topic(session, viewer, topic_id)
    topic = context.topic
    if data.pinned is not None:
        topic.pinned = data.pinned
    if data.locked is not None:
        topic.locked = data.locked
    if data.category_id is not None and data.category_id != topic.category_id:
        target = await session.get(Category, data.category_id)
        if target is None:
            raise Invalid(lazy_gettext("Choose a category from the list."), field="category_id")
        if target.kind != topic.kind:
            raise Invalid(
                lazy_gettext(
                    "Questions can only move to Q&A categories, discussions to discussion ones."
                ),
                field="category_id",
            )
        posts = topic.reply_count + 1
        counters.count(session, topic.category_id, topics=-1, posts=-posts)
        counters.count(session, target.id, topics=1, posts=posts)
        topic.category_id = target.id
        context.category = target
    await session.flush()
    return context


# --- likes ----------------------------------------------------------------------------------


class _LikeTarget(NamedTuple):
    """The post a like lands on, as :func:`_likeable` read it."""

    post_id: int
    author_id: int
    like_count: int
    topic_id: int
    category_id: int


def _like_target_query(_insert: Any) -> Any:
    return (
        select(
            Post.like_count,
            Topic.id,
            Category.id,
            *policy.state_columns(Post),
            *policy.topic_gate_columns(),
        )
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(Post.id == bindparam("p_post"))
    )


async def _likeable(session: AsyncSession, viewer: Member, post_id: int) -> _LikeTarget:
    """The post a like or unlike lands on, with the same rules as :func:`writable_post`,
    read as columns: loading the post, its topic and its category as objects cost a
    sixteenth of a like, and a like changes none of them through the ORM."""
    moderation.check_can_participate(viewer)
    rows = await read_prebuilt(
        session, "forums.like_target", _like_target_query, {"p_post": post_id}
    )
    if not rows:
        raise NotFound()
    like_count, topic_id, category_id, *columns = rows[0]
    size = len(policy.STATE_COLUMNS)
    post = policy.StateColumns(*columns[:size])
    topic, category = policy.topic_gate_of(columns[size:])
    if not policy.can_see_topic(viewer, category, topic) or not moderation.can_see_post(
        viewer, post
    ):
        raise NotFound()
    if post.deleted_at is not None or topic.deleted_at is not None:
        raise Conflict(lazy_gettext("This post was removed."))
    if post.author_id == viewer.id:
        raise Forbidden(lazy_gettext("You cannot like your own post."))
    return _LikeTarget(post_id, post.author_id, like_count, topic_id, category_id)


def _like_insert(insert_: Any) -> Any:
    table = PostLike.__table__
    return (
        insert_(table)
        .on_conflict_do_nothing(index_elements=[table.c.post_id, table.c.member_id])
        .returning(table.c.post_id)
    )


def _like_delete(_insert: Any) -> Any:
    table = cast(Table, PostLike.__table__)
    return (
        delete(table)
        .where(table.c.post_id == bindparam("post_id"), table.c.member_id == bindparam("member_id"))
        .returning(table.c.post_id)
    )


async def _count_like(
    session: AsyncSession, viewer: Member, target: _LikeTarget, verb: str, delta: int
) -> int:
    """Move the post's and topic's like counters and record the like (or its undoing);
    returns the post's new like count."""
    post = await _bump(session, Post, target.post_id, like_count=delta)
    await _bump(session, Topic, target.topic_id, like_count=delta)
    await activity.record(
        session,
        verb,
        actor_id=viewer.id,
        recipient_id=target.author_id,
        subject=("post", target.post_id),
        data={"topic_id": target.topic_id, "category_id": target.category_id},
    )
    return int(post["like_count"]) if post is not None else target.like_count


async def like_post(session: AsyncSession, viewer: Member, post_id: int) -> tuple[bool, int]:
    """Like a post once; liking again changes nothing. Returns (liked, like count)."""
    target = await _likeable(session, viewer, post_id)
    params = {"post_id": target.post_id, "member_id": viewer.id}
    created = (
        await run_prebuilt(
            session, "forums.like", _like_insert, {**params, "created_at": clock.now()}
        )
    ).scalar_one_or_none()
    if created is None:
        return True, target.like_count
    return True, await _count_like(session, viewer, target, verbs.LIKE_GIVEN, 1)


async def unlike_post(session: AsyncSession, viewer: Member, post_id: int) -> tuple[bool, int]:
    target = await _likeable(session, viewer, post_id)
    params = {"post_id": target.post_id, "member_id": viewer.id}
    removed = (
        await run_prebuilt(session, "forums.unlike", _like_delete, params)
    ).scalar_one_or_none()
    if removed is None:
        return False, target.like_count
    return False, await _count_like(session, viewer, target, verbs.LIKE_UNDONE, -1)


# --- accepted answers (used by Q&A and by removals) -------------------------------------------


def _accepted_query(_insert: Any) -> Any:
    """A question's accepted answer, its row locked."""
    topics = cast(Table, Topic.__table__)
    return (
        select(topics.c.accepted_post_id)
        .where(topics.c.id == bindparam("p_topic"))
        .with_for_update()
    )


def _post_author_query(_insert: Any) -> Any:
    posts = cast(Table, Post.__table__)
    return select(posts.c.author_id).where(posts.c.id == bindparam("p_post"))


def _accept_update(_insert: Any) -> Any:
    topics = cast(Table, Topic.__table__)
    return (
        update(topics)
        .where(topics.c.id == bindparam("p_topic"))
        .values(accepted_post_id=bindparam("p_post"))
    )


async def set_accepted(
    session: AsyncSession, viewer: Member, topic: Topic, post: Post | None
) -> None:
    # The question's row first (as likes and replies take it before any member's), read
    # afresh under its lock: a concurrent switch may have changed the choice since the topic
    # was loaded. Then every member the switch concerns, in id order, before recording
    # anything: an unaccept and an accept concern different answerers, and taking them one
    # activity at a time deadlocked against an asker switching the other way (PostgreSQL).
    # Statements built once, as a like's are (bench/ANALYSIS.md, session 34).
    rows = await read_prebuilt(session, "forums.accepted", _accepted_query, {"p_topic": topic.id})
    previous = rows[0][0] if rows else None
    set_committed_value(topic, "accepted_post_id", previous)
    chosen = post.id if post else None
    if previous == chosen:
        return
    previous_author = None
    if previous is not None:
        # Read once the question's row is locked, in a statement of its own: joined to the
        # locking read, PostgreSQL would re-check a choice changed meanwhile against the
        # answer it had joined before waiting, not the new one.
        authors = await read_prebuilt(
            session, "forums.post_author", _post_author_query, {"p_post": previous}
        )
        previous_author = authors[0][0] if authors else None
    await activity.lock_members(
        session, viewer.id, previous_author, post.author_id if post else None
    )
    if previous is not None:
        await activity.record(
            session,
            verbs.ANSWER_UNACCEPTED,
            actor_id=viewer.id,
            recipient_id=previous_author,
            subject=("post", previous),
            data={"topic_id": topic.id, "asker_id": topic.author_id},
        )
    await run_prebuilt(
        session, "forums.accept", _accept_update, {"p_topic": topic.id, "p_post": chosen}
    )
    set_committed_value(topic, "accepted_post_id", chosen)
    if post is not None:
        await activity.record(
            session,
            verbs.ANSWER_ACCEPTED,
            actor_id=viewer.id,
            recipient_id=post.author_id,
            subject=("post", post.id),
            data={"topic_id": topic.id, "asker_id": topic.author_id},
        )


# --- views and read tracking ------------------------------------------------------------------


def visitor_key(viewer: Member | None, client_ip: str, user_agent: str) -> str:
    """Members count once per day each. Anonymous visitors by address and browser: a cookie
    would make every cookieless request (crawlers, first visits) a new visitor."""
    if viewer is not None:
        return f"m:{viewer.id}"
    return f"a:{sha256_hex(f'{client_ip}|{user_agent}')[:32]}"


# Views this process has already stored today, so a visitor reloading a topic does not take
# the write lock again. Only a shortcut: the table's primary key is what keeps one row per
# visitor, whichever process writes it. Keyed with the topic's creation time because ids are
# reused after deletes on SQLite.
_counted_views: OrderedDict[tuple[int, float, date, str], None] = OrderedDict()
COUNTED_VIEWS_KEPT = 50_000


def _view_insert(insert_: Any) -> Any:
    table = TopicView.__table__
    return (
        insert_(table)
        .on_conflict_do_nothing(index_elements=[table.c.topic_id, table.c.day, table.c.visitor_key])
        .returning(table.c.topic_id)
    )


def _read_marker_upsert(insert_: Any) -> Any:
    table = TopicRead.__table__
    statement = insert_(table)
    newer = statement.excluded.last_read_number > table.c.last_read_number
    return statement.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.topic_id],
        set_={
            "last_read_number": statement.excluded.last_read_number,
            "updated_at": statement.excluded.updated_at,
        },
        where=newer,
    )


class Visit(NamedTuple):
    """A page view to write: the topic, who viewed it, up to which post a member read, when."""

    topic_id: int
    visitor: str
    member_id: int | None
    read_up_to: int
    at: datetime


async def record_visits(session: AsyncSession, visits: Sequence[Visit]) -> None:
    """Count each visitor's first view of a topic on the day of the visit, and move members'
    read markers forward (never back). The view counts and the daily rollup move once per
    topic and day; everything is written in key order, so two processes writing batches
    lock the same rows in the same order (PostgreSQL). Statements built once
    (app.kit.sql.prebuilt): through the ORM a visit cost 1.5-2.4 ms against 0.2 ms
    (bench/ANALYSIS.md, session 28)."""
    from app.analytics.rollups import count_topic

    views: dict[tuple[int, date, str], Visit] = {}
    markers: dict[tuple[int, int], Visit] = {}
    for visit in visits:
        views.setdefault((visit.topic_id, clock.community_day(visit.at), visit.visitor), visit)
        if visit.member_id is not None and visit.read_up_to > 0:
            key = (visit.member_id, visit.topic_id)
            if key not in markers or visit.read_up_to > markers[key].read_up_to:
                markers[key] = visit
    counted: Counter[tuple[int, date]] = Counter()
    for (topic_id, day, visitor), visit in sorted(views.items()):
        row = (
            await run_prebuilt(
                session,
                "forums.view",
                _view_insert,
                {
                    "topic_id": topic_id,
                    "day": day,
                    "visitor_key": visitor,
                    "member_id": visit.member_id,
                    "created_at": visit.at,
                },
            )
        ).scalar_one_or_none()
        if row is not None:
            counted[(topic_id, day)] += 1
    per_topic: Counter[int] = Counter()
    for (topic_id, _day), count in counted.items():
        per_topic[topic_id] += count
    for topic_id in sorted(per_topic):
        await _bump(session, Topic, topic_id, view_count=per_topic[topic_id])
    for topic_id, day in sorted(counted):
        await count_topic(session, day, topic_id, views=counted[(topic_id, day)])
    for (member_id, topic_id), visit in sorted(markers.items()):
        await run_prebuilt(
            session,
            "forums.read_marker",
            _read_marker_upsert,
            {
                "member_id": member_id,
                "topic_id": topic_id,
                "last_read_number": visit.read_up_to,
                "updated_at": visit.at,
            },
        )


# The visits waiting to be written, per database (engine URL) in this process, and the
# databases whose visits a request is writing now.
_pending_visits: dict[str, list[Visit]] = {}
_writing_visits: set[str] = set()


async def _write_visits(visit: Visit) -> None:
    """Write a visit once its page is sent. The first request to find no writer busy writes
    every visit pending, batch after batch, in one transaction each, until none is left;
    the others only add theirs. One at a time, the process's visits took a write
    transaction each and fell behind a crowd of new visitors (bench/ANALYSIS.md, session
    28); while nothing else is waiting, each is written at once, as before."""
    database = get_database()
    key = database_key(database.engine.sync_engine)
    _pending_visits.setdefault(key, []).append(visit)
    if key in _writing_visits:
        return
    _writing_visits.add(key)
    try:
        while batch := _pending_visits.pop(key, None):
            await _write_batch(database, batch)
    finally:
        _writing_visits.discard(key)


async def _write_batch(database: Any, batch: list[Visit]) -> None:
    """One transaction for the batch; if it fails, one for each of its visits, so that a
    visit that cannot be written (its topic gone meanwhile) costs only its own view. The
    pages were sent already: a visit that fails alone is logged."""
    try:
        async with database.transaction(write=True) as side:
            await record_visits(side, batch)
    except Exception:
        if len(batch) == 1:
            logger.exception("writing a view of topic %d failed", batch[0].topic_id)
            return
        for visit in batch:
            await _write_batch(database, [visit])


def schedule_visit(
    session: AsyncSession,
    *,
    topic: Topic,
    visitor: str,
    member_id: int | None,
    read_up_to: int,
    last_read_number: int | None,
) -> None:
    """Count the view and move the read marker after the page is sent, in a short write
    transaction (shared with the other visits waiting then): reading a topic never waits for
    the write lock. Nothing is written when neither would change."""
    now = clock.now()
    key = (topic.id, topic.created_at.timestamp(), clock.community_day(now), visitor)
    new_view = key not in _counted_views
    read_moves = member_id is not None and read_up_to > (last_read_number or 0)
    if not (new_view or read_moves):
        return
    if new_view:
        _counted_views[key] = None
        if len(_counted_views) > COUNTED_VIEWS_KEPT:
            _counted_views.popitem(last=False)
    visit = Visit(topic.id, visitor, member_id, read_up_to, now)

    async def write() -> None:
        await _write_visits(visit)

    after_commit(session, write)


# --- categories (admins) ----------------------------------------------------------------------


async def _slug_taken(session: AsyncSession, slug: str, except_id: int | None = None) -> bool:
    query = select(Category.id).where(Category.slug == slug)
    if except_id is not None:
        query = query.where(Category.id != except_id)
    return (await session.scalar(query)) is not None


async def create_category(session: AsyncSession, data: CategoryIn) -> Category:
    if await _slug_taken(session, data.slug):
        raise Conflict(lazy_gettext("Another category already uses this address."), field="slug")
    category = Category(**data.model_dump())
    session.add(category)
    await session.flush()
    return category


async def update_category(session: AsyncSession, category_id: int, data: CategoryIn) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound()
    if await _slug_taken(session, data.slug, except_id=category.id):
        raise Conflict(lazy_gettext("Another category already uses this address."), field="slug")
    if data.kind != category.kind and category.topic_count:
        raise Conflict(
            lazy_gettext("A category with topics cannot change between discussion and Q&A."),
            field="kind",
        )
    for name, value in data.model_dump().items():
        setattr(category, name, value)
    await session.flush()
    return category


async def delete_category(session: AsyncSession, category_id: int) -> None:
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound()
    has_topics = await session.scalar(
        select(Topic.id).where(Topic.category_id == category.id).limit(1)
    )
    if has_topics is not None:
        raise Conflict(lazy_gettext("Move or delete this category's topics before deleting it."))
    await session.delete(category)
    await session.flush()
