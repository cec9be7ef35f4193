"""Notifications in the JSON API."""

from __future__ import annotations

from fastapi import Query

from app.accounts.deps import CurrentMember, SessionDep
from app.kit.routing import Router
from app.notifications import queries, service
from app.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)
from app.notifications.text import headline, target_url

router = Router(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=NotificationPage, summary="My notifications, newest first")
async def list_notifications(
    viewer: CurrentMember,
    session: SessionDep,
    cursor: str | None = Query(default=None, max_length=40),
    unread: bool = False,
    limit: int = Query(default=queries.PAGE_SIZE, ge=1, le=100),
) -> NotificationPage:
    page = await queries.list_for(session, viewer, cursor=cursor, unread_only=unread, limit=limit)
    items = [
        NotificationOut(
            id=row.id,
            kind=row.kind,
            text=headline(row, actor, html=False),
            url=target_url(row),
            actor_id=row.actor_id,
            actor_count=row.actor_count,
            topic_id=row.topic_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            read=row.read_at is not None,
        )
        for row, actor in page.items
    ]
    unread_count = await queries.unread_count(session, viewer.id)
    return NotificationPage(items=items, next_cursor=page.next_cursor, unread=unread_count)


@router.post("/{notification_id}/read", response_model=UnreadOut, summary="Mark one as read")
async def read_one(notification_id: int, viewer: CurrentMember, session: SessionDep) -> UnreadOut:
    await service.mark_read(session, viewer, notification_id)
    return UnreadOut(unread=await queries.unread_count(session, viewer.id))


@router.post("/read-all", response_model=UnreadOut, summary="Mark all as read")
async def read_all(viewer: CurrentMember, session: SessionDep) -> UnreadOut:
    await service.mark_all_read(session, viewer)
    return UnreadOut(unread=0)


@router.get("/preferences", response_model=PreferencesOut, summary="How I am notified")
async def get_preferences(viewer: CurrentMember, session: SessionDep) -> PreferencesOut:
    choices = (await service.preferences(session, [viewer.id]))[viewer.id]
    return PreferencesOut.model_validate(choices)


@router.patch("/preferences", response_model=PreferencesOut, summary="Change how I am notified")
async def update_preferences(
    data: PreferencesIn, viewer: CurrentMember, session: SessionDep
) -> PreferencesOut:
    await service.set_preferences(session, viewer, data.choices())
    choices = (await service.preferences(session, [viewer.id]))[viewer.id]
    return PreferencesOut.model_validate(choices)
