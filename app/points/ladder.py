"""The rank ladder as a small immutable snapshot: loaded once per request for the rank badge
that ``member_link`` shows next to every name, and by services that need thresholds.

The ranks table holds a handful of rows, so reading it per page costs one tiny query and
stays correct across processes without any cache invalidation; only the building of the
snapshot is skipped when the rows have not changed.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.i18n import get_locale
from app.models import Rank


@dataclass(frozen=True)
class RankView:
    id: int
    name_en: str
    name_ja: str
    threshold: int
    colour: str
    badge: str
    benefits_en: str
    benefits_ja: str

    @property
    def name(self) -> str:
        return self.name_ja if get_locale() == "ja" and self.name_ja else self.name_en

    @property
    def benefits(self) -> str:
        return self.benefits_ja if get_locale() == "ja" and self.benefits_ja else self.benefits_en

    @classmethod
    def of(cls, rank: Rank) -> RankView:
        return cls(
            id=rank.id,
            name_en=rank.name_en,
            name_ja=rank.name_ja,
            threshold=rank.threshold,
            colour=rank.colour,
            badge=rank.badge,
            benefits_en=rank.benefits_en,
            benefits_ja=rank.benefits_ja,
        )


class Ladder:
    """Ranks ordered by threshold, with lookups by id and by lifetime points."""

    def __init__(self, ranks: Sequence[RankView] = ()) -> None:
        self.ranks = tuple(ranks)
        self._by_id = {rank.id: rank for rank in self.ranks}
        self._thresholds = [rank.threshold for rank in self.ranks]

    def get(self, rank_id: int | None) -> RankView | None:
        if rank_id is None:
            return None
        return self._by_id.get(rank_id)

    def for_points(self, points: int) -> RankView | None:
        index = bisect_right(self._thresholds, points)
        return self.ranks[index - 1] if index else None

    def next_after(self, points: int) -> RankView | None:
        index = bisect_right(self._thresholds, points)
        return self.ranks[index] if index < len(self.ranks) else None

    def of_member(self, member: Any) -> RankView | None:
        """The member's cached rank, or the one their points give when none is cached yet."""
        rank = self.get(getattr(member, "rank_id", None))
        if rank is not None:
            return rank
        points = getattr(member, "lifetime_points", None)
        return self.for_points(points) if isinstance(points, int) else None


_EMPTY = Ladder()
_current: ContextVar[Ladder | None] = ContextVar("kizuna_ladder", default=None)


_RANKS = select(
    Rank.id,
    Rank.name_en,
    Rank.name_ja,
    Rank.threshold,
    Rank.colour,
    Rank.badge,
    Rank.benefits_en,
    Rank.benefits_ja,
).order_by(Rank.threshold)
_last: tuple[tuple[Any, ...], Ladder] | None = None


async def load_ladder(session: AsyncSession) -> Ladder:
    """The ranks as they are now. They are read on every call (a handful of plain rows from one
    statement object, whose compiled form SQLAlchemy keeps), so an edit made by any process, or
    a table emptied between tests, shows at once; when the rows are the ones read last time,
    the same Ladder (and its RankViews, which key the badge cache) is returned."""
    global _last
    rows: tuple[tuple[Any, ...], ...] = tuple(tuple(row) for row in await session.execute(_RANKS))
    last = _last
    if last is not None and last[0] == rows:
        return last[1]
    ladder = Ladder([RankView(*row) for row in rows])
    _last = (rows, ladder)
    return ladder


_read_at = -math.inf  # time.monotonic() when page_ladder() last read the ranks in this process


async def page_ladder(session: AsyncSession, max_age: float) -> Ladder:
    """The ladder for showing badges on a page: the one read at most ``max_age`` seconds ago
    in this process, or a fresh read. Every page shows rank badges, and the ladder changes
    only when an admin edits it (which calls :func:`forget_ladder` once it commits)."""
    global _read_at
    now = time.monotonic()
    if _last is not None and now - _read_at < max_age:
        return _last[1]
    ladder = await load_ladder(session)
    _read_at = now
    return ladder


def forget_ladder() -> None:
    """The next page reads the ladder again (an edit was committed in this process)."""
    global _read_at
    _read_at = -math.inf


def use_ladder(ladder: Ladder) -> None:
    _current.set(ladder)


def current_ladder() -> Ladder:
    return _current.get() or _EMPTY


def badge_html(rank: RankView | None) -> Markup:
    if rank is None:
        return Markup("")
    return _badge(rank, get_locale())


@lru_cache(maxsize=256)
def _badge(rank: RankView, locale: str) -> Markup:
    """A rank's badge, built once per rank and language: a ladder has a handful of ranks, and
    a page shows the badge beside every name. The key is the whole (frozen) RankView, so an
    edited rank gets a fresh badge. ``locale`` is the one ``rank.name`` reads."""
    # The colour is data, and the CSP forbids style attributes: an SVG fill carries it.
    return Markup(
        '<span class="badge rank-badge" title="{title}">'
        '<svg class="rank-dot" width="8" height="8" viewBox="0 0 8 8" aria-hidden="true">'
        '<circle cx="4" cy="4" r="4" fill="{colour}"/></svg>'
        "{badge}{name}</span>"
    ).format(
        title=rank.name,
        colour=rank.colour,
        badge=Markup("{} ").format(rank.badge) if rank.badge else "",
        name=rank.name,
    )


def rank_badge(member: Any) -> Markup:
    """Jinja global used by ``member_link``: the member's rank badge, or nothing."""
    if member is None:
        return Markup("")
    return badge_html(current_ladder().of_member(member))
