"""Forum endpoints of the JSON API: the same services and rules as the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.deps import CurrentAdmin, CurrentMember, OptionalMember, SessionDep
from app.forums import policy, queries, search, service
from app.forums.schemas import (
    AuthorOut,
    CategoryIn,
    CategoryOut,
    LikeOut,
    PostEditIn,
    PostListOut,
    PostOut,
    RemoveIn,
    ReplyIn,
    RevisionOut,
    SearchHitOut,
    SearchOut,
    TopicDetailOut,
    TopicIn,
    TopicListOut,
    TopicModerationIn,
    TopicOut,
)
from app.kit.errors import NotFound
from app.kit.routing import Router
from app.models import Member, Post, Topic

router = Router(prefix="/api/v1", tags=["forums"])

Cursor = Annotated[
    str | None, Query(max_length=100, description="From the previous page's next_cursor")
]


def topic_out(topic: queries.TopicSummary) -> TopicOut:
    return TopicOut(
        id=topic.id,
        title=topic.title,
        kind=topic.kind,
        category_id=topic.category.id,
        category_slug=topic.category.slug,
        author=AuthorOut.model_validate(topic.author),
        last_poster=AuthorOut.model_validate(topic.last_poster) if topic.last_poster else None,
        pinned=topic.pinned,
        locked=topic.locked,
        created_at=topic.created_at,
        last_posted_at=topic.last_posted_at,
        reply_count=topic.reply_count,
        like_count=topic.like_count,
        view_count=topic.view_count,
        score=topic.score,
        solved=topic.solved,
        tags=topic.tags,
        unread_count=topic.unread_count,
        is_new=topic.is_new,
        url=topic.url,
    )


def post_out(post: queries.PostView, *, source: str | None = None) -> PostOut:
    return PostOut(
        id=post.id,
        topic_id=post.topic_id,
        number=post.number,
        author=AuthorOut.model_validate(post.author),
        cooked="" if post.deleted_at else post.cooked,
        source=source,
        created_at=post.created_at,
        edited_at=post.edited_at,
        revision_count=post.revision_count,
        like_count=post.like_count,
        liked=post.liked,
        score=post.score,
        my_vote=post.my_vote,
        accepted=post.accepted,
        deleted=post.deleted_at is not None,
        reply_to_post_id=post.reply_to_post_id,
        url=post.url,
    )


async def _written_post(
    session: AsyncSession, viewer: Member | None, post: Post, topic: Topic
) -> PostOut:
    """A post as the viewer sees it, from the post and topic already loaded (by a write that
    has just checked the viewer may act on them, or by :func:`_single_post`)."""
    view = await queries.post_view(session, viewer, post, topic)
    own = viewer is not None and (viewer.id == post.author_id or viewer.is_staff)
    return post_out(view, source=post.source if own else None)


async def _single_post(
    session: AsyncSession, viewer: Member | None, post_id: int
) -> tuple[PostOut, queries.TopicContext]:
    post, context = await queries.get_post(session, viewer, post_id)
    return await _written_post(session, viewer, post, context.topic), context


# --- categories -----------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryOut], summary="Categories I can see")
async def list_categories(session: SessionDep, viewer: OptionalMember) -> list[CategoryOut]:
    return [
        CategoryOut.model_validate(c) for c in await queries.visible_categories(session, viewer)
    ]


@router.get("/categories/{slug}", response_model=CategoryOut, summary="One category")
async def get_category(slug: str, session: SessionDep, viewer: OptionalMember) -> CategoryOut:
    return CategoryOut.model_validate(await queries.category_by_slug(session, viewer, slug))


@router.post(
    "/categories", response_model=CategoryOut, status_code=201, summary="Create a category (admin)"
)
async def create_category(
    data: CategoryIn, session: SessionDep, viewer: CurrentAdmin
) -> CategoryOut:
    return CategoryOut.model_validate(await service.create_category(session, data))


@router.put(
    "/categories/{category_id}", response_model=CategoryOut, summary="Change a category (admin)"
)
async def update_category(
    category_id: int, data: CategoryIn, session: SessionDep, viewer: CurrentAdmin
) -> CategoryOut:
    return CategoryOut.model_validate(await service.update_category(session, category_id, data))


@router.delete(
    "/categories/{category_id}", status_code=204, summary="Delete an empty category (admin)"
)
async def delete_category(category_id: int, session: SessionDep, viewer: CurrentAdmin) -> Response:
    await service.delete_category(session, category_id)
    return Response(status_code=204)


# --- topics ---------------------------------------------------------------------------------


@router.get("/topics", response_model=TopicListOut, summary="Topics I can see, one page")
async def list_topics(
    session: SessionDep,
    viewer: OptionalMember,
    category: Annotated[str | None, Query(max_length=60, description="Category slug")] = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
    sort: Annotated[str, Query(pattern="^(activity|newest|top)$")] = "activity",
    period: Annotated[str, Query(pattern="^(day|week|month|year|all)$")] = "all",
    status: Annotated[str | None, Query(pattern="^(solved|unsolved|unanswered)$")] = None,
    cursor: Cursor = None,
) -> TopicListOut:
    category_id = None
    if category:
        category_id = (await queries.category_by_slug(session, viewer, category)).id
    topics, next_cursor = await queries.topic_list(
        session,
        viewer,
        category_id=category_id,
        tag=tag.lower() if tag else None,
        sort=sort,
        period=period,
        status=status,
        cursor=cursor,
    )
    return TopicListOut(items=[topic_out(t) for t in topics], next_cursor=next_cursor)


@router.post("/topics", response_model=TopicDetailOut, status_code=201, summary="Start a topic")
async def create_topic(data: TopicIn, session: SessionDep, viewer: CurrentMember) -> TopicDetailOut:
    topic, _post = await service.create_topic(session, viewer, data)
    return await _topic_detail(session, viewer, topic.id, None)


async def _topic_detail(
    session: AsyncSession, viewer: Member | None, topic_id: int, cursor: str | None
) -> TopicDetailOut:
    context = await queries.get_topic(session, viewer, topic_id)
    if context.topic.deleted_at is not None:
        raise NotFound()
    summary = await queries.topic_summary(session, viewer, topic_id)
    posts, next_cursor = await queries.posts_page(session, viewer, context, cursor=cursor)
    return TopicDetailOut(
        topic=topic_out(summary),
        posts=[post_out(p) for p in posts],
        next_cursor=next_cursor,
        first_unread_number=context.first_unread_number,
        can_reply=policy.can_reply(viewer, context.category, context.topic),
    )


@router.get("/topics/{topic_id}", response_model=TopicDetailOut, summary="A topic and its posts")
async def get_topic(
    topic_id: int, session: SessionDep, viewer: OptionalMember, cursor: Cursor = None
) -> TopicDetailOut:
    return await _topic_detail(session, viewer, topic_id, cursor)


@router.get("/topics/{topic_id}/posts", response_model=PostListOut, summary="Posts of a topic")
async def list_posts(
    topic_id: int, session: SessionDep, viewer: OptionalMember, cursor: Cursor = None
) -> PostListOut:
    context = await queries.get_topic(session, viewer, topic_id)
    posts, next_cursor = await queries.posts_page(session, viewer, context, cursor=cursor)
    return PostListOut(items=[post_out(p) for p in posts], next_cursor=next_cursor)


@router.patch(
    "/topics/{topic_id}", response_model=TopicOut, summary="Pin, lock or move a topic (moderators)"
)
async def moderate_topic(
    topic_id: int, data: TopicModerationIn, session: SessionDep, viewer: CurrentMember
) -> TopicOut:
    await service.moderate_topic(session, viewer, topic_id, data)
    return topic_out(await queries.topic_summary(session, viewer, topic_id))


@router.post(
    "/topics/{topic_id}/posts", response_model=PostOut, status_code=201, summary="Reply to a topic"
)
async def create_reply(
    topic_id: int, data: ReplyIn, session: SessionDep, viewer: CurrentMember
) -> PostOut:
    post, context = await service.create_reply(session, viewer, topic_id, data)
    return await _written_post(session, viewer, post, context.topic)


# --- posts ----------------------------------------------------------------------------------


@router.get("/posts/{post_id}", response_model=PostOut, summary="One post")
async def get_post(post_id: int, session: SessionDep, viewer: OptionalMember) -> PostOut:
    return (await _single_post(session, viewer, post_id))[0]


@router.patch("/posts/{post_id}", response_model=PostOut, summary="Edit a post (keeps history)")
async def edit_post(
    post_id: int, data: PostEditIn, session: SessionDep, viewer: CurrentMember
) -> PostOut:
    post, context = await service.edit_post(session, viewer, post_id, data)
    return await _written_post(session, viewer, post, context.topic)


@router.delete("/posts/{post_id}", status_code=204, summary="Delete a post (soft)")
async def delete_post(
    post_id: int,
    session: SessionDep,
    viewer: CurrentMember,
    reason: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The author or a moderator; deleting the opening post deletes the topic."""
    data = RemoveIn(reason=reason)
    await service.remove_post(session, viewer, post_id, data.reason)
    return Response(status_code=204)


@router.post("/posts/{post_id}/restore", response_model=PostOut, summary="Restore (moderators)")
async def restore_post(post_id: int, session: SessionDep, viewer: CurrentMember) -> PostOut:
    await service.restore_post(session, viewer, post_id)
    return (await _single_post(session, viewer, post_id))[0]


@router.get(
    "/posts/{post_id}/revisions",
    response_model=list[RevisionOut],
    summary="Earlier versions of a post (author and staff)",
)
async def post_revisions(
    post_id: int, session: SessionDep, viewer: CurrentMember
) -> list[RevisionOut]:
    post, _context = await queries.get_post(session, viewer, post_id)
    if not policy.can_see_revisions(viewer, post):
        raise NotFound()
    return [RevisionOut.model_validate(r) for r in await queries.revisions(session, post.id)]


@router.put("/posts/{post_id}/like", response_model=LikeOut, summary="Like a post")
async def like_post(post_id: int, session: SessionDep, viewer: CurrentMember) -> LikeOut:
    liked, count = await service.like_post(session, viewer, post_id)
    return LikeOut(post_id=post_id, liked=liked, like_count=count)


@router.delete("/posts/{post_id}/like", response_model=LikeOut, summary="Take a like back")
async def unlike_post(post_id: int, session: SessionDep, viewer: CurrentMember) -> LikeOut:
    liked, count = await service.unlike_post(session, viewer, post_id)
    return LikeOut(post_id=post_id, liked=liked, like_count=count)


# --- search ---------------------------------------------------------------------------------


@router.get("/search", response_model=SearchOut, summary="Search topics and posts I can see")
async def search_posts(
    session: SessionDep,
    viewer: OptionalMember,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    category: Annotated[str | None, Query(max_length=60, description="Category slug")] = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
    author: Annotated[str | None, Query(max_length=30, description="Author handle")] = None,
    solved: bool | None = None,
    cursor: Cursor = None,
) -> SearchOut:
    category_id = None
    if category:
        category_id = (await queries.category_by_slug(session, viewer, category)).id
    hits, next_cursor = await search.search(
        session,
        viewer,
        q,
        category_id=category_id,
        tag=tag.lower() if tag else None,
        author_handle=author,
        solved=solved,
        cursor=cursor,
    )
    return SearchOut(
        query=q,
        items=[
            SearchHitOut(
                post_id=hit.post_id,
                topic_id=hit.topic_id,
                topic_title=hit.topic_title,
                number=hit.number,
                category_slug=hit.category_slug,
                author=AuthorOut.model_validate(hit.author),
                created_at=hit.created_at,
                solved=hit.solved,
                title_html=str(hit.title_html),
                snippet_html=str(hit.snippet_html),
                url=hit.url,
            )
            for hit in hits
        ],
        next_cursor=next_cursor,
    )
