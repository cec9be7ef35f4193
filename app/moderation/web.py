"""Moderation pages: flagging for members, the review queue and tools for moderators, the
audit log, and the settings and word list for admins. Routes are thin: they read the form,
call the verb's module and redirect with a message (errors render through the one handler)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts.deps import CurrentAdmin, CurrentMember, CurrentModerator, SessionDep
from app.accounts.policy import ROLE_LABELS
from app.forums.policy import can_see_topic
from app.forums.schemas import PostEditIn
from app.kit.errors import Invalid, NotFound
from app.kit.flash import flash
from app.kit.forms import read_form, validate
from app.kit.i18n import gettext as _
from app.kit.routing import Router
from app.kit.templating import render
from app.kit.urls import safe_next
from app.models import Category, Post
from app.moderation import audit, flag, limits, policy, queries, review, roles, service, words
from app.moderation.api import csv_response
from app.moderation.schemas import (
    FlagIn,
    MemberActionIn,
    PostActionIn,
    RoleIn,
    TopicActionIn,
    WordIn,
)

router = Router(include_in_schema=False)

HOUR_CHOICES = (1, 24, 72, 168, 720, 8760)


def _checked(model: type[Any], form: dict[str, Any]) -> Any:
    data, errors = validate(model, form)
    if data is None:
        field, message = next(iter(errors.items()))
        raise Invalid(message, field=field)
    return data


def _back(request: Request, default: str, message: str) -> Response:
    response = RedirectResponse(safe_next(request.query_params.get("next"), default), 303)
    flash(response, message)
    return response


# --- members: flags and outcomes ------------------------------------------------------------


@router.get("/posts/{post_id}/flag")
async def flag_page(
    request: Request, post_id: int, viewer: CurrentMember, session: SessionDep
) -> Response:
    target = await queries.post_target(session, post_id)
    if not can_see_topic(viewer, target.category, target.topic) or not policy.can_see_post(
        viewer, target.post
    ):
        raise NotFound()
    return render(
        request,
        "moderation/flag.html",
        {"target": target, "reasons": flag.REASONS, "form": {}, "errors": {}},
    )


@router.post("/posts/{post_id}/flag")
async def flag_submit(
    request: Request, post_id: int, viewer: CurrentMember, session: SessionDep
) -> Response:
    data: FlagIn = _checked(FlagIn, await read_form(request))
    target = await queries.post_target(session, post_id)
    _item, hidden = await flag.flag_post(session, viewer, post_id, data.reason, data.message)
    message = (
        _("Thank you. The post is now hidden until a moderator reviews it.")
        if hidden
        else _("Thank you. A moderator will review your flag.")
    )
    return _back(request, f"/t/{target.topic.id}", message)


@router.get("/my/moderation")
async def my_moderation(request: Request, viewer: CurrentMember, session: SessionDep) -> Response:
    before = request.query_params.get("before", "")
    entries, next_before = await queries.outcomes_for(
        session, viewer, before=int(before) if before.isdigit() else None
    )
    flags = await queries.my_flags(session, viewer)
    return render(
        request,
        "moderation/mine.html",
        {
            "entries": entries,
            "next_before": next_before,
            "flags": flags,
            "action_label": audit.action_label,
            "reason_label": flag.reason_label,
            "silenced": policy.is_silenced(viewer),
        },
    )


# --- moderators -----------------------------------------------------------------------------


@router.get("/mod")
async def queue_page(request: Request, viewer: CurrentModerator, session: SessionDep) -> Response:
    after = request.query_params.get("after", "")
    items, next_after = await queries.review_queue(
        session, after=int(after) if after.isdigit() else None
    )
    return render(
        request,
        "moderation/queue.html",
        {"items": items, "next_after": next_after, "reason_label": flag.reason_label},
    )


@router.post("/mod/posts/{post_id}")
async def post_action(
    request: Request, post_id: int, viewer: CurrentModerator, session: SessionDep
) -> Response:
    form = await read_form(request)
    data: PostActionIn = _checked(PostActionIn, form)
    edit = None
    if data.action == "edit":
        edit = _checked(PostEditIn, {"body": data.body or ""})
    await review.act_on_post(session, viewer, post_id, data.action, data.reason, edit=edit)
    return _back(request, "/mod", _("Done: %(action)s.", action=_action_word(data.action)))


def _action_word(action: str) -> str:
    labels = {
        "keep": _("kept"),
        "hide": _("hidden"),
        "delete": _("deleted"),
        "edit": _("edited"),
        "restore": _("restored"),
        "approve": _("approved"),
        "reject": _("rejected"),
    }
    return labels.get(action, action)


@router.get("/mod/topics/{topic_id}")
async def topic_tools(
    request: Request, topic_id: int, viewer: CurrentModerator, session: SessionDep
) -> Response:
    topic, category = await queries.topic_target(session, topic_id)
    categories = list(
        (await session.execute(select(Category).order_by(Category.position, Category.id))).scalars()
    )
    replies = list(
        (
            await session.execute(
                select(Post.id, Post.number, Post.plain)
                .where(Post.topic_id == topic.id, Post.number > 1, Post.deleted_at.is_(None))
                .order_by(Post.number)
                .limit(500)
            )
        ).all()
    )
    return render(
        request,
        "moderation/topic.html",
        {"topic": topic, "category": category, "categories": categories, "replies": replies},
    )


@router.post("/mod/topics/{topic_id}")
async def topic_action(
    request: Request, topic_id: int, viewer: CurrentModerator, session: SessionDep
) -> Response:
    form: dict[str, Any] = dict(await read_form(request))
    raw = await request.form()
    form["post_ids"] = [value for value in raw.getlist("post_ids") if isinstance(value, str)]
    data: TopicActionIn = _checked(TopicActionIn, form)
    topic, new_topic = await service.act_on_topic(session, viewer, topic_id, data)
    target = f"/t/{new_topic.id}" if new_topic else f"/mod/topics/{topic.id}"
    return _back(request, target, _("The topic was updated."))


@router.get("/mod/members/{member_id}")
async def member_tools(
    request: Request, member_id: int, viewer: CurrentModerator, session: SessionDep
) -> Response:
    member = await queries.member_by_id(session, member_id)
    rows, _next = await queries.audit_page(
        session, queries.AuditFilter(target_type="member", target_id=member.id), limit=20
    )
    history = (await queries.author_histories(session, {member.id})).get(member.id)
    return render(
        request,
        "moderation/member.html",
        {
            "member": member,
            "rows": rows,
            "history": history,
            "hour_choices": HOUR_CHOICES,
            "roles": ROLE_LABELS,
            "silenced": policy.is_silenced(member),
            "suspended": policy.is_suspended(member),
            "action_label": audit.action_label,
        },
    )


@router.post("/mod/members/{member_id}/{action}")
async def member_action(
    request: Request, member_id: int, action: str, viewer: CurrentModerator, session: SessionDep
) -> Response:
    data: MemberActionIn = _checked(MemberActionIn, await read_form(request))
    await service.act_on_member(session, viewer, member_id, action, data)
    return _back(request, f"/mod/members/{member_id}", _("The member's standing was updated."))


@router.get("/mod/audit")
async def audit_page(request: Request, viewer: CurrentModerator, session: SessionDep) -> Response:
    params = request.query_params
    filters = _audit_filters(params)
    before = params.get("before", "")
    rows, next_before = await queries.audit_page(
        session, filters, before=int(before) if before.isdigit() else None
    )
    query = "&".join(
        f"{key}={value}"
        for key, value in (
            ("actor_id", filters.actor_id),
            ("action", filters.action),
            ("target_type", filters.target_type),
            ("target_id", filters.target_id),
        )
        if value is not None
    )
    return render(
        request,
        "moderation/audit.html",
        {
            "rows": rows,
            "next_before": next_before,
            "filters": filters,
            "query": query,
            "actions": audit.ACTIONS,
            "action_label": audit.action_label,
        },
    )


def _audit_filters(params: Any) -> queries.AuditFilter:
    def number(name: str) -> int | None:
        value = str(params.get(name, ""))
        return int(value) if value.isdigit() and len(value) < 19 else None

    action = str(params.get("action", ""))[:60] or None
    target_type = str(params.get("target_type", ""))[:30] or None
    return queries.AuditFilter(
        actor_id=number("actor_id"),
        action=action,
        target_type=target_type,
        target_id=number("target_id"),
    )


@router.get("/mod/audit.csv")
async def audit_csv(request: Request, viewer: CurrentModerator, session: SessionDep) -> Response:
    return csv_response(session, _audit_filters(request.query_params))


# --- admins ---------------------------------------------------------------------------------


@router.post("/admin/members/{member_id}/role")
async def role_submit(
    request: Request, member_id: int, viewer: CurrentAdmin, session: SessionDep
) -> Response:
    data: RoleIn = _checked(RoleIn, await read_form(request))
    member = await queries.member_by_id(session, member_id)
    await roles.set_role(session, viewer, member, data.role, data.reason)
    return _back(request, f"/mod/members/{member_id}", _("The role was changed."))


@router.get("/admin/moderation")
async def settings_page(request: Request, viewer: CurrentAdmin, session: SessionDep) -> Response:
    settings = await limits.load_settings(session)
    return render(
        request,
        "moderation/settings.html",
        {
            "form": settings.model_dump(),
            "errors": {},
            "words": await words.list_words(session),
            "word_form": {},
        },
    )


@router.post("/admin/moderation")
async def settings_submit(request: Request, viewer: CurrentAdmin, session: SessionDep) -> Response:
    form = await read_form(request)
    form.pop("csrf_token", None)
    data, errors = validate(limits.ModerationSettings, form)
    if data is None:
        return render(
            request,
            "moderation/settings.html",
            {
                "form": form,
                "errors": errors,
                "words": await words.list_words(session),
                "word_form": {},
            },
            status_code=422,
        )
    await service.save_settings(session, viewer, data)
    return _back(request, "/admin/moderation", _("The moderation settings were saved."))


@router.post("/admin/words")
async def word_add(request: Request, viewer: CurrentAdmin, session: SessionDep) -> Response:
    form = await read_form(request)
    form.pop("csrf_token", None)
    data, errors = validate(WordIn, form)
    if data is None:
        return render(
            request,
            "moderation/settings.html",
            {
                "form": (await limits.load_settings(session)).model_dump(),
                "errors": {},
                "word_errors": errors,
                "words": await words.list_words(session),
                "word_form": form,
            },
            status_code=422,
        )
    await service.add_word(session, viewer, data)
    return _back(request, "/admin/moderation#words", _("The word was added."))


@router.post("/admin/words/{word_id}/delete")
async def word_remove(
    request: Request, word_id: int, viewer: CurrentAdmin, session: SessionDep
) -> Response:
    await service.remove_word(session, viewer, word_id)
    return _back(request, "/admin/moderation#words", _("The word was removed."))
