"""Moderation in the JSON API: flags for members; the queue, actions and audit log for
moderators; roles, settings and the word list for admins."""

from __future__ import annotations

from typing import Any

from fastapi import Body, Query
from starlette.responses import StreamingResponse

from app.accounts.deps import CurrentAdmin, CurrentMember, CurrentModerator, SessionDep
from app.forums.schemas import PostEditIn
from app.kit.errors import Invalid
from app.kit.forms import validate
from app.kit.routing import Router
from app.models import AuditLog, Flag, Member, Topic
from app.moderation import audit, exports, flag, limits, queries, review, roles, service
from app.moderation.schemas import (
    AuditEntryOut,
    AuditPageOut,
    FlagIn,
    FlagOut,
    HistoryOut,
    MemberActionIn,
    MemberRef,
    MemberStateOut,
    MyFlagOut,
    MyModerationOut,
    OutcomeOut,
    PostActionIn,
    PostStateOut,
    QueueFlagOut,
    QueueOut,
    ReviewItemOut,
    RoleIn,
    SettingsOut,
    TopicActionIn,
    TopicStateOut,
    WordIn,
    WordOut,
)

router = Router(prefix="/api/v1", tags=["moderation"])


def flag_out(item: Flag, hidden: bool) -> FlagOut:
    return FlagOut(
        id=item.id,
        post_id=item.post_id,
        reason=item.reason,
        message=item.message,
        weight=item.weight,
        status=item.status,
        created_at=item.created_at,
        post_hidden=hidden,
    )


def review_item_out(item: queries.ReviewItem) -> ReviewItemOut:
    return ReviewItemOut(
        post_id=item.post.id,
        topic_id=item.topic.id,
        topic_title=item.topic.title,
        number=item.post.number,
        source=item.post.source,
        cooked=item.post.cooked,
        created_at=item.post.created_at,
        hidden=item.post.hidden_at is not None,
        hidden_reason=item.post.hidden_reason,
        deleted=item.post.deleted_at is not None,
        awaiting_approval=item.post.needs_approval,
        score=item.score,
        author=MemberRef.model_validate(item.author),
        flags=[
            QueueFlagOut(
                id=f.id,
                reason=f.reason,
                message=f.message,
                weight=f.weight,
                created_at=f.created_at,
                flagger=MemberRef.model_validate(f.flagger),
            )
            for f in item.flags
        ],
        history=HistoryOut(
            posts=item.history.posts,
            hidden_or_deleted=item.history.hidden_or_deleted,
            accepted_flags_against=item.history.accepted_flags_against,
            moderation_entries=item.history.moderation_entries,
        ),
    )


def topic_state_out(topic: Topic, new_topic: Topic | None = None) -> TopicStateOut:
    return TopicStateOut(
        topic_id=topic.id,
        category_id=topic.category_id,
        locked=topic.locked,
        pinned=topic.pinned,
        closed=topic.closed_at is not None,
        closed_reason=topic.closed_reason,
        new_topic_id=new_topic.id if new_topic else None,
    )


def member_state_out(member: Member) -> MemberStateOut:
    return MemberStateOut(
        id=member.id,
        handle=member.handle,
        role=member.role,
        silenced_until=member.silenced_until,
        silence_reason=member.silence_reason,
        suspended_until=member.suspended_until,
        suspend_reason=member.suspend_reason,
        flags_accepted=member.flags_accepted,
        flags_rejected=member.flags_rejected,
    )


def audit_out(row: queries.AuditRow) -> AuditEntryOut:
    entry = row.entry
    return AuditEntryOut(
        id=entry.id,
        action=entry.action,
        label=audit.action_label(entry.action),
        actor=MemberRef.model_validate(row.actor) if row.actor else None,
        target_type=entry.target_type,
        target_id=entry.target_id,
        concerns_member_id=entry.subject_member_id,
        before=entry.before,
        after=entry.after,
        reason=entry.reason,
        created_at=entry.created_at,
    )


def outcome_out(entry: AuditLog) -> OutcomeOut:
    return OutcomeOut(
        id=entry.id,
        action=entry.action,
        label=audit.action_label(entry.action),
        target_type=entry.target_type,
        target_id=entry.target_id,
        reason=entry.reason,
        created_at=entry.created_at,
    )


# --- members --------------------------------------------------------------------------------


@router.post(
    "/posts/{post_id}/flags", response_model=FlagOut, status_code=201, summary="Flag a post"
)
async def flag_post(
    post_id: int, data: FlagIn, viewer: CurrentMember, session: SessionDep
) -> FlagOut:
    item, hidden = await flag.flag_post(session, viewer, post_id, data.reason, data.message)
    return flag_out(item, hidden)


@router.post(
    "/topics/{topic_id}/flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a topic (its opening post)",
)
async def flag_topic(
    topic_id: int, data: FlagIn, viewer: CurrentMember, session: SessionDep
) -> FlagOut:
    post_id = await queries.first_post_id(session, topic_id)
    item, hidden = await flag.flag_post(session, viewer, post_id, data.reason, data.message)
    return flag_out(item, hidden)


@router.get("/my/moderation", response_model=MyModerationOut, summary="Moderation that concerns me")
async def my_moderation(
    viewer: CurrentMember, session: SessionDep, before: int | None = Query(default=None, ge=1)
) -> MyModerationOut:
    entries, next_before = await queries.outcomes_for(session, viewer, before=before)
    flags = await queries.my_flags(session, viewer)
    return MyModerationOut(
        silenced_until=viewer.silenced_until,
        suspended_until=viewer.suspended_until,
        outcomes=[outcome_out(entry) for entry in entries],
        next_before=next_before,
        flags=[
            MyFlagOut(
                id=item.flag.id,
                post_id=item.flag.post_id,
                topic_id=item.topic_id,
                topic_title=item.topic_title,
                reason=item.flag.reason,
                status=item.flag.status,
                created_at=item.flag.created_at,
            )
            for item in flags
        ],
    )


# --- moderators -----------------------------------------------------------------------------


@router.get("/mod/queue", response_model=QueueOut, summary="The review queue")
async def queue(
    viewer: CurrentModerator, session: SessionDep, after: int | None = Query(default=None, ge=1)
) -> QueueOut:
    items, next_after = await queries.review_queue(session, after=after)
    return QueueOut(items=[review_item_out(item) for item in items], next_after=next_after)


@router.post(
    "/mod/posts/{post_id}/actions",
    response_model=PostStateOut,
    summary="Keep, hide, delete, edit, restore, approve or reject a post",
)
async def post_action(
    post_id: int, data: PostActionIn, viewer: CurrentModerator, session: SessionDep
) -> PostStateOut:
    edit: PostEditIn | None = None
    if data.action == "edit":
        edit, errors = validate(
            PostEditIn,
            {"body": data.body or ""} | ({"title": data.title} if data.title else {}),
        )
        if edit is None:
            field, message = next(iter(errors.items()))
            raise Invalid(message, field=field)
    target = await review.act_on_post(session, viewer, post_id, data.action, data.reason, edit=edit)
    return PostStateOut(
        post_id=target.post.id,
        topic_id=target.post.topic_id,
        hidden=target.post.hidden_at is not None,
        deleted=target.post.deleted_at is not None,
        awaiting_approval=target.post.needs_approval,
    )


@router.post(
    "/mod/topics/{topic_id}/actions",
    response_model=TopicStateOut,
    summary="Lock, unlock, pin, unpin, close, reopen, move or split a topic",
)
async def topic_action(
    topic_id: int, data: TopicActionIn, viewer: CurrentModerator, session: SessionDep
) -> TopicStateOut:
    topic, new_topic = await service.act_on_topic(session, viewer, topic_id, data)
    return topic_state_out(topic, new_topic)


@router.get(
    "/mod/members/{member_id}", response_model=MemberStateOut, summary="A member's standing"
)
async def member_state(
    member_id: int, viewer: CurrentModerator, session: SessionDep
) -> MemberStateOut:
    return member_state_out(await queries.member_by_id(session, member_id))


@router.post(
    "/mod/members/{member_id}/{action}",
    response_model=MemberStateOut,
    summary="Silence, unsilence, suspend, unsuspend or warn a member",
)
async def member_action(
    member_id: int,
    action: str,
    data: MemberActionIn,
    viewer: CurrentModerator,
    session: SessionDep,
) -> MemberStateOut:
    member = await service.act_on_member(session, viewer, member_id, action, data)
    return member_state_out(member)


def _filters(
    actor_id: int | None, action: str | None, target_type: str | None, target_id: int | None
) -> queries.AuditFilter:
    return queries.AuditFilter(
        actor_id=actor_id,
        action=action or None,
        target_type=target_type or None,
        target_id=target_id,
    )


@router.get("/mod/audit", response_model=AuditPageOut, summary="The audit log, newest first")
async def audit_log(
    viewer: CurrentModerator,
    session: SessionDep,
    actor_id: int | None = Query(default=None, ge=1),
    action: str | None = Query(default=None, max_length=60),
    target_type: str | None = Query(default=None, max_length=30),
    target_id: int | None = Query(default=None, ge=1),
    before: int | None = Query(default=None, ge=1),
) -> AuditPageOut:
    rows, next_before = await queries.audit_page(
        session, _filters(actor_id, action, target_type, target_id), before=before
    )
    return AuditPageOut(items=[audit_out(row) for row in rows], next_before=next_before)


@router.get("/mod/audit.csv", summary="The audit log as CSV")
async def audit_csv(
    viewer: CurrentModerator,
    session: SessionDep,
    actor_id: int | None = Query(default=None, ge=1),
    action: str | None = Query(default=None, max_length=60),
    target_type: str | None = Query(default=None, max_length=30),
    target_id: int | None = Query(default=None, ge=1),
) -> StreamingResponse:
    return csv_response(session, _filters(actor_id, action, target_type, target_id))


def csv_response(session: SessionDep, filters: queries.AuditFilter) -> StreamingResponse:
    return StreamingResponse(
        exports.audit_csv(session, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


# --- admins ---------------------------------------------------------------------------------


@router.put(
    "/admin/members/{member_id}/role",
    response_model=MemberStateOut,
    summary="Change a member's role",
)
async def set_role(
    member_id: int, data: RoleIn, viewer: CurrentAdmin, session: SessionDep
) -> MemberStateOut:
    member = await queries.member_by_id(session, member_id)
    await roles.set_role(session, viewer, member, data.role, data.reason)
    return member_state_out(member)


@router.get("/admin/moderation/settings", response_model=SettingsOut, summary="Moderation settings")
async def get_settings(viewer: CurrentAdmin, session: SessionDep) -> SettingsOut:
    return SettingsOut.model_validate((await limits.load_settings(session)).model_dump())


@router.patch(
    "/admin/moderation/settings",
    response_model=SettingsOut,
    summary="Change some moderation settings (the others keep their values)",
)
async def patch_settings(
    viewer: CurrentAdmin, session: SessionDep, changes: dict[str, Any] = Body()
) -> SettingsOut:
    current = (await limits.load_settings(session)).model_dump()
    data, errors = validate(limits.ModerationSettings, current | changes)
    if data is None:
        field, message = next(iter(errors.items()))
        raise Invalid(message, field=f"body.{field}")
    saved = await service.save_settings(session, viewer, data)
    return SettingsOut.model_validate(saved.model_dump())


@router.get("/admin/words", response_model=list[WordOut], summary="The watched-word list")
async def list_words(viewer: CurrentAdmin, session: SessionDep) -> list[WordOut]:
    from app.moderation import words

    return [WordOut.model_validate(word) for word in await words.list_words(session)]


@router.post("/admin/words", response_model=WordOut, status_code=201, summary="Add a watched word")
async def add_word(data: WordIn, viewer: CurrentAdmin, session: SessionDep) -> WordOut:
    return WordOut.model_validate(await service.add_word(session, viewer, data))


@router.delete("/admin/words/{word_id}", status_code=204, summary="Remove a watched word")
async def remove_word(word_id: int, viewer: CurrentAdmin, session: SessionDep) -> None:
    await service.remove_word(session, viewer, word_id)
