from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, utcnow


class AnalyticsSettings(Base):
    """The one row (id 1) of admin-editable analytics settings: ambassador criteria, the badge,
    engagement weights per verb and the monthly decay. Defaults live in app.analytics.policy."""

    __tablename__ = "analytics_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    top_deciles: Mapped[int] = mapped_column(default=1)
    active_days: Mapped[int] = mapped_column(default=30)
    min_reach: Mapped[int] = mapped_column(default=5)
    exclude_detractors: Mapped[bool] = mapped_column(default=True)
    badge_enabled: Mapped[bool] = mapped_column(default=True)
    badge_label: Mapped[str] = mapped_column(String(40), default="")
    monthly_decay: Mapped[float] = mapped_column(default=0.1)
    weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="SET NULL")
    )
