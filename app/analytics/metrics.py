"""The metric definitions, as pure functions of small inputs (no database, no clock).

Every number the operator dashboard shows is computed here, so each definition can be tested
against hand-computed expectations and documented in one place (README, "Analytics").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# --- NPS ---------------------------------------------------------------------------------------

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
NPS_CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
# Below this many answers the figure moves by more than about +/-5 points between samples.
NPS_USABLE_SAMPLE = 400


def nps_category(score: int) -> str:
    """9-10 promoter, 7-8 passive, 0-6 detractor."""
    if not 0 <= score <= 10:
        raise ValueError("an NPS answer is a whole number from 0 to 10")
    if score >= 9:
        return PROMOTER
    if score >= 7:
        return PASSIVE
    return DETRACTOR


@dataclass(frozen=True)
class NpsResult:
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    margin: float | None
    distribution: tuple[int, ...]

    def share(self, category: str) -> float:
        count = {PROMOTER: self.promoters, PASSIVE: self.passives, DETRACTOR: self.detractors}
        return 100.0 * count[category] / self.responses if self.responses else 0.0

    @property
    def low_sample(self) -> bool:
        return self.responses < NPS_USABLE_SAMPLE


def nps(scores: Iterable[int]) -> NpsResult:
    """NPS = %promoters - %detractors (-100..+100), with its 95% margin of error.

    Each answer is +1 (promoter), 0 (passive) or -1 (detractor); NPS/100 is their mean. With
    p and d the promoter and detractor shares, the variance of one answer is
    ``p + d - (p - d)**2`` and the margin is ``1.96 * sqrt(variance / n)``, in NPS points.
    """
    distribution = [0] * 11
    for score in scores:
        nps_category(score)
        distribution[score] += 1
    n = sum(distribution)
    promoters = distribution[9] + distribution[10]
    passives = distribution[7] + distribution[8]
    detractors = n - promoters - passives
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, tuple(distribution))
    p, d = promoters / n, detractors / n
    variance = p + d - (p - d) ** 2
    margin = 100 * 1.96 * math.sqrt(max(variance, 0.0) / n)
    return NpsResult(n, promoters, passives, detractors, 100 * (p - d), margin, tuple(distribution))


# --- medians and active members ----------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class ActiveCounts:
    day: date
    dau: int
    wau: int
    mau: int

    @property
    def stickiness(self) -> float | None:
        """DAU/MAU as a percentage: how many of the month's members come on a given day."""
        return 100.0 * self.dau / self.mau if self.mau else None


def active_counts(
    active_days: Iterable[tuple[int, date]], start: date, end: date
) -> list[ActiveCounts]:
    """For each day: distinct members active that day, in the 7 and in the 30 days ending it."""
    by_day: dict[date, set[int]] = {}
    for member_id, day in active_days:
        by_day.setdefault(day, set()).add(member_id)
    result: list[ActiveCounts] = []
    day = start
    while day <= end:
        week: set[int] = set()
        month: set[int] = set()
        for back in range(30):
            members = by_day.get(day - timedelta(days=back), set())
            month |= members
            if back < 7:
                week |= members
        result.append(ActiveCounts(day, len(by_day.get(day, set())), len(week), len(month)))
        day += timedelta(days=1)
    return result


# --- periods, cohorts and churn -----------------------------------------------------------------


def period_start(day: date, unit: str) -> date:
    """The Monday of the day's week, or the first of its month."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods_between(first: date, last: date, unit: str) -> list[date]:
    current, end = period_start(first, unit), period_start(last, unit)
    result: list[date] = []
    while current <= end:
        result.append(current)
        current = next_period(current, unit)
    return result


@dataclass(frozen=True)
class CohortRow:
    period: date
    size: int
    # shares[k]: percentage of the cohort active k periods after the sign-up period (k = 0 is
    # the sign-up period itself); None for periods that have not happened yet.
    shares: tuple[float | None, ...]


def cohorts(
    periods: Sequence[date], sizes: Mapping[int, int], active: Mapping[tuple[int, int], int]
) -> list[CohortRow]:
    """Members grouped by the week or month they joined; for each following period, the share
    of the cohort active in it (any recorded action that period). Periods are given by their
    index in ``periods``: ``sizes`` maps one to how many members joined in it, ``active`` a
    (joined, active) pair to how many of those members did something in the second."""
    rows: list[CohortRow] = []
    for slot, start in enumerate(periods):
        size = sizes.get(slot, 0)
        shares: list[float | None] = []
        for later in range(len(periods)):
            target = slot + later
            if target >= len(periods) or not size:
                shares.append(None)
            else:
                shares.append(100.0 * active.get((slot, target), 0) / size)
        rows.append(CohortRow(start, size, tuple(shares)))
    return rows


@dataclass(frozen=True)
class ChurnRow:
    period: date
    active: int
    churned: int

    @property
    def rate(self) -> float | None:
        return 100.0 * self.churned / self.active if self.active else None


def churn(periods: Sequence[date], active: Sequence[int], kept: Sequence[int]) -> list[ChurnRow]:
    """For each period whose next period is also in range: the members active in it
    (``active[i]``), and how many of them were not active at all in the next period (all but
    the ``kept[i]`` who were)."""
    return [ChurnRow(start, active[i], active[i] - kept[i]) for i, start in enumerate(periods[:-1])]


# --- engagement ("heat") -----------------------------------------------------------------------

HEAT_EPOCH = date(2020, 1, 1)


def daily_decay(monthly_decay: float) -> float:
    """The factor one day of age applies, from the share lost per 30 days (0.1 = 10%)."""
    return float((1.0 - monthly_decay) ** (1.0 / 30.0))


def heat_increment(weight: float, day: date, monthly_decay: float) -> float:
    """What one weighted action adds to ``heat_base`` (its weight as seen from the epoch)."""
    return float(weight / daily_decay(monthly_decay) ** (day - HEAT_EPOCH).days)


def engagement(heat_base: float, today: date, monthly_decay: float) -> float:
    """Today's engagement: each action's weight times (1 - decay) per 30 days of age."""
    return float(heat_base * daily_decay(monthly_decay) ** (today - HEAT_EPOCH).days)


def engagement_of(
    weighted_days: Iterable[tuple[date, float]], today: date, monthly_decay: float
) -> float:
    """The definition itself: sum of weight x (1 - decay) ** (age in days / 30)."""
    return sum(
        float(weight * (1.0 - monthly_decay) ** ((today - day).days / 30.0))
        for day, weight in weighted_days
    )


# --- deciles ----------------------------------------------------------------------------------


def deciles(scores: Mapping[int, float]) -> dict[int, int]:
    """Members in ten equal groups by score, 1 = the top tenth. Ties go by member id (older
    members first), so the split is stable; with fewer than ten members some groups are empty."""
    ordered = sorted(scores, key=lambda member_id: (-scores[member_id], member_id))
    n = len(ordered)
    return {member_id: position * 10 // n + 1 for position, member_id in enumerate(ordered)}


def decile_of(position: int, population: int) -> int:
    """The decile of the member at 0-based ``position`` in the order :func:`deciles` uses."""
    return position * 10 // population + 1 if population else 10


@dataclass(frozen=True)
class DecileRow:
    decile: int
    members: int
    posts: float
    answers: float
    likes_received: float


def decile_starts(population: int) -> list[int]:
    """The 0-based position where each of deciles 1..10 starts in a ranking of ``population``
    (as :func:`deciles` splits it: the first p with p * 10 // population >= d - 1)."""
    return [-(-d * population // 10) for d in range(10)]


def decile_sizes(population: int) -> dict[int, int]:
    """How many members each decile holds in a ranking of ``population``."""
    bounds = [*decile_starts(population), population]
    return {d: bounds[d] - bounds[d - 1] for d in range(1, 11)}


def decile_shares(
    sizes: Mapping[int, int], sums: Mapping[int, tuple[int, int, int]]
) -> list[DecileRow]:
    """Each decile's share (percent) of posts, answers and likes received. ``sums`` maps a
    decile to its members' (posts, answers, likes received) over the period."""
    grand = [sum(sums.get(d, (0, 0, 0))[i] for d in range(1, 11)) for i in range(3)]

    def share(decile: int, i: int) -> float:
        return 100.0 * sums.get(decile, (0, 0, 0))[i] / grand[i] if grand[i] else 0.0

    return [
        DecileRow(d, sizes.get(d, 0), share(d, 0), share(d, 1), share(d, 2)) for d in range(1, 11)
    ]


# --- RFM ---------------------------------------------------------------------------------------

RFM_GROUPS = ("champions", "loyal", "new", "at_risk", "dormant", "occasional")
# Recency: days since the last active day (None = never). Frequency: active days in the last
# 90 days. Monetary: lifetime contribution (points earned). Each is scored 1-5 on these bounds.
RECENCY_DAYS = (7, 30, 90, 180)  # <=7 -> 5, <=30 -> 4, <=90 -> 3, <=180 -> 2, else 1
FREQUENCY_DAYS = (30, 12, 4, 1)  # >=30 -> 5, >=12 -> 4, >=4 -> 3, >=1 -> 2, else 1
MONETARY_POINTS = (1000, 300, 100, 10)  # >=1000 -> 5, >=300 -> 4, >=100 -> 3, >=10 -> 2


def recency_score(days: int | None) -> int:
    if days is None:
        return 1
    for score, bound in zip((5, 4, 3, 2), RECENCY_DAYS, strict=True):
        if days <= bound:
            return score
    return 1


def _at_least(value: int, bounds: tuple[int, ...]) -> int:
    for score, bound in zip((5, 4, 3, 2), bounds, strict=True):
        if value >= bound:
            return score
    return 1


def frequency_score(active_days: int) -> int:
    return _at_least(active_days, FREQUENCY_DAYS)


def monetary_score(contribution: int) -> int:
    return _at_least(contribution, MONETARY_POINTS)


def rfm_group(r: int, f: int, m: int, *, joined_days_ago: int) -> str:
    """The first group whose rule holds: champions (R, F, M all >= 4); loyal (R >= 3, F >= 4);
    new (joined in the last 30 days, R >= 4); at risk (R <= 2 but F or M >= 3: they used to
    take part); dormant (R <= 2); otherwise occasional."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 4:
        return "loyal"
    if joined_days_ago <= 30 and r >= 4:
        return "new"
    if r <= 2 and (f >= 3 or m >= 3):
        return "at_risk"
    if r <= 2:
        return "dormant"
    return "occasional"


# --- comparisons --------------------------------------------------------------------------------


def change(current: float | None, previous: float | None) -> float | None:
    """Percentage change from the previous period (None when it cannot be computed)."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current - previous) / abs(previous)
