"""Audit entries for admin actions on points and ranks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import clock
from app.models import AuditLog, Member


async def log(
    session: AsyncSession,
    *,
    actor: Member,
    action: str,
    target: tuple[str, int],
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    entry = AuditLog(
        actor_id=actor.id,
        action=action,
        target_type=target[0],
        target_id=target[1],
        reason=reason,
        data=data or {},
        created_at=clock.now(),
    )
    if target[0] == "member" and hasattr(AuditLog, "subject_member_id"):
        # Moderation's column: the member an action concerns may read its outcome.
        entry.subject_member_id = target[1]
    session.add(entry)
    await session.flush()
