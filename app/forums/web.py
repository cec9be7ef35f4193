"""Forum pages. Thin: reads go through queries.py, writes through service.py, access through
policy.py. A normal request gets the full page, an htmx request the partial it asked for."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentMember, OptionalMember, SessionDep, page_request, path_id
from app.forums import policy, queries, rendering, search, service
from app.forums.schemas import PostEditIn, RemoveIn, ReplyIn, TopicIn, TopicModerationIn
from app.kit.errors import KizunaError, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import is_htmx, render
from app.kit.urls import client_ip
from app.models import Member, Post, Topic

router = Router(include_in_schema=False)
rendering.install()


def post_location(topic: Topic, post: Post) -> str:
    """The address that shows ``post`` in its topic."""
    if topic.is_question or post.number <= queries.POSTS_PER_PAGE:
        return f"/t/{topic.id}#post-{post.id}"
    return f"/t/{topic.id}?cursor={post.number - 1}#post-{post.id}"


def _list_params(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "sort": params.get("sort", "activity"),
        "period": params.get("period", "all"),
        "status": params.get("status") or None,
        "cursor": params.get("cursor") or None,
        "tag": params.get("tag") or None,
    }


async def _topic_list_page(
    request: Request,
    session: SessionDep,
    viewer: Member | None,
    *,
    template: str,
    with_categories: bool = False,
    category: Any = None,
    tag: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    params = _list_params(request)
    if tag:
        params["tag"] = tag
    topics, next_cursor = await queries.topic_list(
        session,
        viewer,
        category_id=category.id if category is not None else None,
        tag=params["tag"],
        sort=params["sort"],
        period=params["period"],
        status=params["status"],
        cursor=params["cursor"],
    )
    context = {
        "topics": topics,
        "next_cursor": next_cursor,
        "params": params,
        "category": category,
        "base_path": request.url.path,
        **(extra or {}),
    }
    if is_htmx(request) and params["cursor"]:
        return render(request, "forums/_topic_rows.html", context)
    if with_categories:
        context["categories"] = await queries.visible_categories(session, viewer)
    return render(request, template, context)


@router.get("/")
async def latest(request: Request) -> Response:
    session, viewer = page_request(request)
    return await _topic_list_page(
        request, session, viewer, template="forums/latest.html", with_categories=True
    )


@router.get("/categories")
async def categories(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    return render(
        request,
        "forums/categories.html",
        {
            "categories": await queries.visible_categories(session, viewer),
            "tags": await queries.popular_tags(session),
        },
    )


@router.get("/c/{slug}")
async def category_page(request: Request) -> Response:
    session, viewer = page_request(request)
    category = await queries.category_by_slug(session, viewer, request.path_params["slug"])
    return await _topic_list_page(
        request,
        session,
        viewer,
        template="forums/category.html",
        category=category,
        extra={"can_post": policy.can_post_in(viewer, category)},
    )


@router.get("/tags/{name}")
async def tag_page(
    request: Request, name: str, session: SessionDep, viewer: OptionalMember
) -> Response:
    return await _topic_list_page(
        request, session, viewer, template="forums/tag.html", tag=name.lower(), extra={"tag": name}
    )


# --- new topic ------------------------------------------------------------------------------


async def _composer(
    request: Request,
    session: SessionDep,
    viewer: Member,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    choices = [
        category
        for category in await queries.visible_categories(session, viewer)
        if policy.can_post_in(viewer, category)
    ]
    return render(
        request,
        "forums/new_topic.html",
        {"form": form, "errors": errors, "categories": choices},
        status_code=status_code,
    )


def _errors_from(exc: KizunaError) -> dict[str, str]:
    return {exc.field or "form": str(exc.message)}


@router.get("/t/new")
async def new_topic_page(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form: dict[str, str] = {}
    slug = request.query_params.get("category")
    if slug:
        category = await queries.category_by_slug(session, viewer, slug)
        form["category_id"] = str(category.id)
    return await _composer(request, session, viewer, form, {})


@router.post("/t/new")
async def new_topic(request: Request, session: SessionDep, viewer: CurrentMember) -> Response:
    form = await read_form(request)
    data, errors = validate(TopicIn, form)
    if data is None:
        return await _composer(request, session, viewer, form, errors, 422)
    try:
        topic, _post = await service.create_topic(session, viewer, data)
    except KizunaError as exc:
        if exc.status_code in (401, 404):
            raise
        return await _composer(request, session, viewer, form, _errors_from(exc), exc.status_code)
    return RedirectResponse(f"/t/{topic.id}", status_code=303)


# --- a topic --------------------------------------------------------------------------------


async def _topic_page(
    request: Request,
    session: SessionDep,
    viewer: Member | None,
    topic_id: int,
    *,
    reply_form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = await queries.get_topic(session, viewer, topic_id)
    cursor = request.query_params.get("cursor") or None
    if cursor is None and not context.topic.is_question:
        start = queries.default_start(context)
        cursor = str(start) if start else None
    posts, next_cursor = await queries.posts_page(session, viewer, context, cursor=cursor)
    if reply_form is None:
        reply_form = await _prefilled_reply(request, session, viewer, context)
    if posts and status_code == 200:
        service.schedule_visit(
            session,
            topic=context.topic,
            visitor=service.visitor_key(
                viewer, client_ip(request), request.headers.get("user-agent", "")
            ),
            member_id=viewer.id if viewer is not None else None,
            read_up_to=max(post.number for post in posts),
            last_read_number=context.last_read_number,
        )
    page = {
        "ctx": context,
        "topic": context.topic,
        "category": context.category,
        "posts": posts,
        "next_cursor": next_cursor,
        "cursor": cursor,
        "first_unread": context.first_unread_number,
        "can_reply": policy.can_reply(viewer, context.category, context.topic),
        "can_moderate": policy.can_moderate(viewer),
        "can_accept": viewer is not None
        and (context.topic.author_id == viewer.id or viewer.can_moderate),
        "reply_form": reply_form or {},
        "errors": errors or {},
    }
    if is_htmx(request) and request.query_params.get("cursor"):
        return render(request, "forums/_posts.html", page)
    return render(request, "forums/topic.html", page, status_code=status_code)


async def _prefilled_reply(
    request: Request, session: SessionDep, viewer: Member | None, context: queries.TopicContext
) -> dict[str, str]:
    """?reply_to=ID answers a post; ?quote=ID also starts the reply with a quote of it."""
    form: dict[str, str] = {}
    reply_to = request.query_params.get("reply_to", "")
    if viewer is None:
        return form
    if reply_to.isdigit():
        form["reply_to_post_id"] = reply_to
    quote = request.query_params.get("quote", "")
    if quote.isdigit():
        source = await queries.quotable_source(session, context.topic.id, int(quote))
        if source is not None:
            form["body"] = f"[quote={quote}]\n{source}\n[/quote]\n\n"
    return form


@router.get("/t/{topic_id}")
async def topic_page(request: Request) -> Response:
    session, viewer = page_request(request)
    return await _topic_page(request, session, viewer, path_id(request, "topic_id"))


@router.get("/t/{topic_id}/posts/{post_id}")
async def live_post(
    request: Request, topic_id: int, post_id: int, session: SessionDep, viewer: OptionalMember
) -> Response:
    """A single post rendered for this reader: a live "new post" signal carries only ids, and
    the page fetches the post from here with the reader's own rights, locale and time zone."""
    context = await queries.get_topic(session, viewer, topic_id)
    post = await queries.post_in_topic(session, viewer, context, post_id)
    return render(
        request,
        "forums/_post.html",
        {
            "ctx": context,
            "topic": context.topic,
            "post": post,
            "first_unread": None,
            "can_reply": policy.can_reply(viewer, context.category, context.topic),
            "can_moderate": policy.can_moderate(viewer),
            "can_accept": viewer is not None
            and (context.topic.author_id == viewer.id or viewer.can_moderate),
        },
    )


@router.post("/t/{topic_id}/reply")
async def reply(
    request: Request, topic_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    data, errors = validate(ReplyIn, form)
    if data is None:
        return await _topic_page(
            request, session, viewer, topic_id, reply_form=form, errors=errors, status_code=422
        )
    try:
        post, context = await service.create_reply(session, viewer, topic_id, data)
    except KizunaError as exc:
        if exc.status_code in (401, 404):
            raise
        return await _topic_page(
            request,
            session,
            viewer,
            topic_id,
            reply_form=form,
            errors=_errors_from(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(post_location(context.topic, post), status_code=303)


@router.post("/t/{topic_id}/moderate")
async def moderate(
    request: Request, topic_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    data, errors = validate(TopicModerationIn, {k: v for k, v in form.items() if k != "csrf_token"})
    if data is None:
        raise KizunaError(next(iter(errors.values())), field=next(iter(errors)))
    await service.moderate_topic(session, viewer, topic_id, data)
    return RedirectResponse(f"/t/{topic_id}", status_code=303)


# --- a post ---------------------------------------------------------------------------------


@router.get("/p/{post_id}")
async def post_link(post_id: int, session: SessionDep, viewer: OptionalMember) -> Response:
    post, context = await queries.get_post(session, viewer, post_id)
    return RedirectResponse(post_location(context.topic, post), status_code=303)


async def _edit_page(
    request: Request,
    post: Post,
    context: queries.TopicContext,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "forums/edit_post.html",
        {"post": post, "topic": context.topic, "form": form, "errors": errors},
        status_code=status_code,
    )


@router.get("/p/{post_id}/edit")
async def edit_page(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    post, context = await queries.get_post(session, viewer, post_id)
    if not policy.can_edit_post(viewer, post):
        raise NotFound()
    form = {"body": post.source, "title": context.topic.title, "tags": " ".join(context.tags)}
    return await _edit_page(request, post, context, form, {})


@router.post("/p/{post_id}/edit")
async def edit(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    fields: dict[str, Any] = {"body": form.get("body", "")}
    if "title" in form:
        fields["title"] = form["title"]
    if "tags" in form:
        fields["tags"] = form["tags"]
    data, errors = validate(PostEditIn, fields)
    if data is None:
        post, context = await queries.get_post(session, viewer, post_id)
        return await _edit_page(request, post, context, form, errors, 422)
    try:
        post, context = await service.edit_post(session, viewer, post_id, data)
    except KizunaError as exc:
        if exc.status_code in (401, 404):
            raise
        post, context = await queries.get_post(session, viewer, post_id)
        return await _edit_page(request, post, context, form, _errors_from(exc), exc.status_code)
    response = RedirectResponse(post_location(context.topic, post), status_code=303)
    flash(response, _("Your changes were saved."))
    return response


@router.get("/p/{post_id}/revisions")
async def revisions_page(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    post, context = await queries.get_post(session, viewer, post_id)
    if not policy.can_see_revisions(viewer, post):
        raise NotFound()
    return render(
        request,
        "forums/revisions.html",
        {
            "post": post,
            "topic": context.topic,
            "revisions": await queries.revisions(session, post.id),
        },
    )


@router.post("/p/{post_id}/delete")
async def delete_post(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    form = await read_form(request)
    data, errors = validate(RemoveIn, {"reason": form.get("reason", "")})
    if data is None:
        raise KizunaError(errors.get("reason"), field="reason")
    post, context = await service.remove_post(session, viewer, post_id, data.reason)
    if post.number == 1 and not viewer.can_moderate:
        response = RedirectResponse(f"/c/{context.category.slug}", status_code=303)
    else:
        response = RedirectResponse(post_location(context.topic, post), status_code=303)
    flash(response, _("The post was deleted."))
    return response


@router.post("/p/{post_id}/restore")
async def restore_post(post_id: int, session: SessionDep, viewer: CurrentMember) -> Response:
    post, context = await service.restore_post(session, viewer, post_id)
    return RedirectResponse(post_location(context.topic, post), status_code=303)


async def _like_response(
    request: Request, session: SessionDep, viewer: Member, post_id: int
) -> Response:
    post, context = await queries.get_post(session, viewer, post_id)
    if is_htmx(request):
        view = await queries.post_view(session, viewer, post, context.topic)
        return render(request, "forums/_like.html", {"post": view, "viewer": viewer})
    return RedirectResponse(post_location(context.topic, post), status_code=303)


@router.post("/p/{post_id}/like")
async def like(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    await service.like_post(session, viewer, post_id)
    return await _like_response(request, session, viewer, post_id)


@router.post("/p/{post_id}/unlike")
async def unlike(
    request: Request, post_id: int, session: SessionDep, viewer: CurrentMember
) -> Response:
    await service.unlike_post(session, viewer, post_id)
    return await _like_response(request, session, viewer, post_id)


# --- search ---------------------------------------------------------------------------------


@router.get("/search")
async def search_page(request: Request, session: SessionDep, viewer: OptionalMember) -> Response:
    params = request.query_params
    q = params.get("q", "").strip()
    categories = await queries.visible_categories(session, viewer)
    category_id = next((c.id for c in categories if c.slug == params.get("category")), None)
    solved = {"yes": True, "no": False}.get(params.get("solved", ""))
    hits: list[search.SearchHit] = []
    next_cursor = None
    if q:
        hits, next_cursor = await search.search(
            session,
            viewer,
            q,
            category_id=category_id,
            tag=(params.get("tag") or "").lower() or None,
            author_handle=params.get("author") or None,
            solved=solved,
            cursor=params.get("cursor") or None,
        )
    return render(
        request,
        "forums/search.html",
        {
            "q": q,
            "hits": hits,
            "next_cursor": next_cursor,
            "categories": categories,
            "params": params,
        },
    )
