from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, IdMixin, utcnow


class PointLedgerEntry(IdMixin, Base):
    """One append-only change to a member's points. Rows are never updated or deleted.

    ``(rule, source, seq, reversal)`` is unique: the same action pays at most once, even when
    the same request arrives many times at once. An undo appends a reversal row with the same
    key and ``reversal`` set; doing the action again after an undo pays under the next ``seq``.
    """

    __tablename__ = "point_ledger"
    __table_args__ = (
        UniqueConstraint("rule", "source", "seq", "reversal"),
        Index("ix_point_ledger_member_id_id", "member_id", "id"),
        # Covers the daily cap (member, kind, day) and, with the points, the profile's
        # breakdown by kind as an index-only scan.
        Index(
            "ix_point_ledger_member_kind_day_points", "member_id", "kind", "day", "lifetime_delta"
        ),
        Index("ix_point_ledger_subject", "subject_type", "subject_id"),
    )

    member_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("members.id", ondelete="CASCADE"))
    lifetime_delta: Mapped[int]
    spendable_delta: Mapped[int]
    # The activity verb that earned it, or "adjustment" / "external": the breakdown groups on it.
    kind: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(default=0)
    reversal: Mapped[bool] = mapped_column(default=False)
    subject_type: Mapped[str | None] = mapped_column(String(30))
    subject_id: Mapped[int | None] = mapped_column(BigIntId)
    activity_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("activities.id", ondelete="SET NULL")
    )
    # Who caused it: the liker, the admin who adjusted, the operator who awarded.
    actor_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(String(300), default="")
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
