from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow

# The partial index's clause as SQLAlchemy writes ``where(Score.dirty)`` for each database:
# SQLite uses a partial index only for a query that names its clause as written (``dirty IS
# 1`` would not do), PostgreSQL proves it either way.
DIRTY = {"sqlite": "dirty = 1", "postgresql": "dirty"}


class AnalyticsMemberScore(Base):
    """A member's scores, kept as activities arrive and rebuilt by ``kizuna analytics recompute``.

    ``heat_base`` is the engagement measured at a fixed epoch: every activity adds its weight
    divided by the decay since the epoch, so today's engagement is ``heat_base`` times one shared
    factor. Ordering by it orders by engagement, and no row needs touching as days pass.
    """

    __tablename__ = "analytics_member_scores"
    __table_args__ = (
        Index("ix_analytics_member_scores_ambassador_status", "ambassador_status"),
        Index("ix_analytics_member_scores_detection", "detection"),
        # The members by advocate type and RFM group, counted from the index alone. The
        # score batch writes either column only when it changes (app.analytics.service).
        Index("ix_analytics_member_scores_distribution", "advocate_type", "rfm_group"),
        # The members awaiting the next batch, and only them: setting and clearing the mark
        # (twice for each member an activity concerns) then writes one small index, not a
        # leaf of an index over every member. The batch reads them with this very clause.
        Index(
            "ix_analytics_member_scores_dirty",
            "member_id",
            sqlite_where=text(DIRTY["sqlite"]),
            postgresql_where=text(DIRTY["postgresql"]),
        ),
    )

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    heat_base: Mapped[float] = mapped_column(default=0.0)
    last_active_day: Mapped[date | None] = mapped_column(Date)
    # Active days in the last 90 days (RFM frequency) and lifetime contribution (RFM monetary).
    frequency: Mapped[int] = mapped_column(default=0)
    contribution: Mapped[int] = mapped_column(default=0)
    reach: Mapped[int] = mapped_column(default=0)
    r_score: Mapped[int] = mapped_column(default=1)
    f_score: Mapped[int] = mapped_column(default=1)
    m_score: Mapped[int] = mapped_column(default=1)
    rfm_group: Mapped[str] = mapped_column(String(16), default="dormant")
    decile: Mapped[int | None]
    advocate_type: Mapped[str] = mapped_column(String(16), default="")
    # What the criteria say ("ambassador", "candidate" or "") and what operators decided
    # ("flagged" awaiting review, "confirmed", "dismissed" or "").
    detection: Mapped[str] = mapped_column(String(12), default="")
    ambassador_status: Mapped[str] = mapped_column(String(12), default="")
    explanation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    latest_nps: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An activity changed what the scores are computed from; the columns above but heat_base,
    # last_active_day and latest_nps wait for the next batch (app.analytics.service).
    dirty: Mapped[bool] = mapped_column(default=False, server_default=false())


# The ranking by engagement (ties by member id, older members first: app.analytics.metrics),
# in the index's own order: a decile's first member is found by stepping along it, and a
# member's place by a range of it, with no sort of the population.
Index(
    "ix_analytics_member_scores_ranking",
    AnalyticsMemberScore.heat_base.desc(),
    AnalyticsMemberScore.member_id,
)
