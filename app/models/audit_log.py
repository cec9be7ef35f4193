from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class AuditLog(IdMixin, Base):
    """Every moderator and admin action: who did what to which object, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id", "id"),
        Index("ix_audit_log_actor_id_id", "actor_id", "id"),
        # Moderation: the audit page filters by action, and members read what concerned them.
        Index("ix_audit_log_action_id", "action", "id"),
        Index("ix_audit_log_subject_member_id_id", "subject_member_id", "id"),
    )

    actor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[int | None] = mapped_column(BigIntId)
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The state of the target before and after the action (moderation), and the member the
    # action concerns (a post's author, a silenced member), who may read its outcome.
    before: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    after: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    subject_member_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
