from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigIntId, IdMixin, utcnow

if TYPE_CHECKING:
    from app.models.upload import Upload


class Role(enum.StrEnum):
    member = "member"
    moderator = "moderator"
    operator = "operator"
    admin = "admin"


class _HasRole(Protocol):
    @property
    def role(self) -> str: ...


class RoleChecks:
    """What a role lets a member do: for a loaded member, or for the columns of one that a
    hot path reads instead (a notification's recipient, app.notifications.service)."""

    @property
    def is_staff(self: _HasRole) -> bool:
        return self.role != Role.member

    @property
    def can_moderate(self: _HasRole) -> bool:
        return self.role in (Role.moderator, Role.admin)

    @property
    def can_operate(self: _HasRole) -> bool:
        return self.role in (Role.operator, Role.admin)

    @property
    def is_admin(self: _HasRole) -> bool:
        return self.role == Role.admin


class Member(IdMixin, RoleChecks, Base):
    __tablename__ = "members"
    # The dashboard's rank distribution counts members per rank from the index (migration 0015).
    __table_args__ = (Index("ix_members_role_rank_id", "role", "rank_id"),)

    email: Mapped[str] = mapped_column(String(254), unique=True)
    handle: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.member.value)
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    bio: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime | None]
    last_visit_day: Mapped[date | None] = mapped_column(Date)
    email_verified_at: Mapped[datetime | None]
    # Cached count of unread notifications for the header bell (kept by app.notifications).
    unread_notifications: Mapped[int] = mapped_column(default=0, server_default="0")
    # Cached point balances and rank (kept by app.points, in the same transaction as the ledger).
    lifetime_points: Mapped[int] = mapped_column(default=0, server_default="0")
    spendable_points: Mapped[int] = mapped_column(default=0, server_default="0")
    rank_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ranks.id", ondelete="SET NULL")
    )
    # The avatar image (app.uploads). members <-> uploads reference each other, so this key is
    # created after both tables (use_alter). The avatar shows beside every member name, so it
    # loads with the member in one extra IN query per statement ("selectin"), never per row.
    avatar_upload_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("uploads.id", ondelete="SET NULL", use_alter=True), index=True
    )
    avatar: Mapped[Upload | None] = relationship(foreign_keys=[avatar_upload_id], lazy="selectin")
    # Moderation (app.moderation): a silenced member reads but cannot post, flag or react; a
    # suspended one cannot sign in. Both end by themselves at the stored time.
    silenced_until: Mapped[datetime | None]
    silence_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    suspended_until: Mapped[datetime | None]
    suspend_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Outcomes of this member's flags; their accuracy weighs their next flags.
    flags_accepted: Mapped[int] = mapped_column(default=0, server_default="0")
    flags_rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    # The badge a confirmed ambassador carries next to their name (app.analytics): "" for none,
    # "ambassador" for the translated default label, otherwise the admin's own label.
    ambassador_badge: Mapped[str] = mapped_column(String(40), default="", server_default="")
