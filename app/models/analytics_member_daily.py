from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.activity import verbs
from app.models.base import CLUSTERED, Base, BigIntId, postgresql_only


def _quoted(*names: str) -> str:
    return ", ".join(f"'{name}'" for name in names)


# What the decile table (app.analytics.queries.decile_table) sums: posts and answers written,
# likes received. About a quarter of the rows of a period: a like's row for its giver, a visit,
# points and ranks are the rest. A query names this very clause so that both databases see
# the partial index below serves it (the same text, with its values written in).
DECILE_FACTS = (
    f"((verb IN ({_quoted(verbs.TOPIC_CREATED, verbs.POST_CREATED, verbs.ANSWER_CREATED)})"
    f" AND done <> 0)"
    f" OR (verb IN ({_quoted(verbs.LIKE_GIVEN, verbs.LIKE_UNDONE)}) AND received <> 0))"
)


class AnalyticsMemberDaily(Base):
    """Per member, per community day, per verb: how often the member did it (``done``) and how
    often it was done to them (``received``). A member is active on a day when any row of that
    day has ``done > 0``: DAU/WAU/MAU, cohorts, churn, RFM and engagement all read this table."""

    __tablename__ = "analytics_member_daily"
    __table_args__ = (
        Index("ix_analytics_member_daily_day_member_id", "day", "member_id"),
        # The primary key's columns and the counts: a member's days (the score batch after
        # each write, a member's first activity of a day) are read from the index alone. On
        # SQLite the clustered table is that index already.
        postgresql_only(
            Index(
                "ix_analytics_member_daily_member_day_verb_counts",
                "member_id",
                "day",
                "verb",
                "done",
                "received",
            )
        ),
        # A period's decile facts, day first: the decile table reads them alone.
        Index(
            "ix_analytics_member_daily_decile_facts",
            "day",
            "member_id",
            "verb",
            "done",
            "received",
            sqlite_where=text(DECILE_FACTS),
            postgresql_where=text(DECILE_FACTS),
        ),
        CLUSTERED,
    )

    member_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    verb: Mapped[str] = mapped_column(String(40), primary_key=True)
    done: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)
