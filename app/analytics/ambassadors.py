"""Ambassador detection: documented criteria, an explanation for every flag, reviews with history.

Default criteria (admins change them in the analytics settings):

1. ``decile``: in the top engagement decile (``top_deciles`` = 1), with some engagement;
2. ``active``: last active no more than 30 days ago (``active_days``);
3. ``reach``: touched at least 5 distinct members in the last 90 days (``min_reach``);
4. ``nps``: the latest NPS answer is not a detractor's (0-6), or there is none; a promoter
   answer (9-10) is noted as strengthening the case (``exclude_detractors`` turns this off);
5. ``standing``: neither silenced nor suspended.

Meeting all of them makes an ambassador, all but one a candidate (予備軍). A newly detected
ambassador is "flagged" for operators, who confirm or dismiss it with a note; every status change
is kept with who and when, and recorded as an activity (webhooks hang on those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import record
from app.analytics import policy
from app.kit import clock
from app.kit.errors import Invalid, NotFound
from app.kit.i18n import LazyString, lazy_gettext
from app.kit.i18n import gettext as _
from app.kit.sql import run_prebuilt
from app.models import AmbassadorStatusChange, AnalyticsMemberScore, AnalyticsSettings, Member

AMBASSADOR, CANDIDATE = "ambassador", "candidate"
FLAGGED, CONFIRMED, DISMISSED = "flagged", "confirmed", "dismissed"
# The stored badge value that means "show the translated default label".
DEFAULT_BADGE = "ambassador"

CRITERION_LABELS: dict[str, LazyString] = {
    "decile": lazy_gettext("Top engagement decile"),
    "active": lazy_gettext("Recently active"),
    "reach": lazy_gettext("Reach"),
    "nps": lazy_gettext("Latest NPS answer not a detractor"),
    "standing": lazy_gettext("Not silenced or suspended"),
}
STATUS_LABELS: dict[str, LazyString] = {
    "": lazy_gettext("None"),
    FLAGGED: lazy_gettext("Flagged for review"),
    CONFIRMED: lazy_gettext("Confirmed ambassador"),
    DISMISSED: lazy_gettext("Dismissed"),
}
DETECTION_LABELS: dict[str, LazyString] = {
    "": lazy_gettext("Not detected"),
    AMBASSADOR: lazy_gettext("Meets every criterion"),
    CANDIDATE: lazy_gettext("Candidate (all but one criterion)"),
}


@dataclass(frozen=True)
class Criteria:
    top_deciles: int = policy.DEFAULT_TOP_DECILES
    active_days: int = policy.DEFAULT_ACTIVE_DAYS
    min_reach: int = policy.DEFAULT_MIN_REACH
    exclude_detractors: bool = True
    badge_enabled: bool = True
    badge_label: str = ""
    monthly_decay: float = policy.DEFAULT_MONTHLY_DECAY
    weights: dict[str, float] = field(default_factory=lambda: dict(policy.DEFAULT_WEIGHTS))

    @property
    def badge_value(self) -> str:
        if not self.badge_enabled:
            return ""
        return self.badge_label or DEFAULT_BADGE


_CACHE_KEY = "analytics_criteria"


def _criteria_query(_insert: Any) -> Any:
    table = AnalyticsSettings.__table__
    return select(
        table.c.top_deciles,
        table.c.active_days,
        table.c.min_reach,
        table.c.exclude_detractors,
        table.c.badge_enabled,
        table.c.badge_label,
        table.c.monthly_decay,
        table.c.weights,
    ).where(table.c.id == bindparam("p_id"))


async def load_criteria(session: AsyncSession) -> Criteria:
    """The settings row, read once per transaction (every activity consults it)."""
    cached = session.info.get(_CACHE_KEY)
    if isinstance(cached, Criteria):
        return cached
    # Core, not session.get(): every write that moves a score reads it (twice per like).
    row = (
        await run_prebuilt(session, "analytics.criteria", _criteria_query, {"p_id": 1})
    ).one_or_none()
    criteria = (
        Criteria()
        if row is None
        else Criteria(
            top_deciles=row.top_deciles,
            active_days=row.active_days,
            min_reach=row.min_reach,
            exclude_detractors=row.exclude_detractors,
            badge_enabled=row.badge_enabled,
            badge_label=row.badge_label,
            monthly_decay=row.monthly_decay,
            weights=policy.effective_weights(row.weights),
        )
    )
    session.info[_CACHE_KEY] = criteria
    return criteria


def forget_criteria(session: AsyncSession) -> None:
    session.info.pop(_CACHE_KEY, None)


@dataclass(frozen=True)
class Facts:
    decile: int | None
    engagement: float
    last_active_day: date | None
    reach: int
    latest_nps: int | None
    silenced: bool
    suspended: bool


def restricted(member: Member, now: datetime) -> tuple[bool, bool]:
    silenced_until = getattr(member, "silenced_until", None)
    suspended_until = getattr(member, "suspended_until", None)
    return (
        silenced_until is not None and silenced_until > now,
        suspended_until is not None and suspended_until > now,
    )


def assess(facts: Facts, criteria: Criteria, today: date) -> tuple[str, list[dict[str, Any]]]:
    """Detection ("ambassador", "candidate" or "") and one explanation entry per criterion:
    the member's value, the threshold and whether it is met."""
    days_since = None if facts.last_active_day is None else (today - facts.last_active_day).days
    entries: list[dict[str, Any]] = [
        {
            "criterion": "decile",
            "value": facts.decile,
            "threshold": criteria.top_deciles,
            "met": facts.decile is not None
            and facts.decile <= criteria.top_deciles
            and facts.engagement > 0,
        },
        {
            "criterion": "active",
            "value": days_since,
            "threshold": criteria.active_days,
            "met": days_since is not None and days_since <= criteria.active_days,
        },
        {
            "criterion": "reach",
            "value": facts.reach,
            "threshold": criteria.min_reach,
            "met": facts.reach >= criteria.min_reach,
        },
    ]
    if criteria.exclude_detractors:
        entries.append(
            {
                "criterion": "nps",
                "value": facts.latest_nps,
                "threshold": 7,
                "met": facts.latest_nps is None or facts.latest_nps >= 7,
                "promoter": facts.latest_nps is not None and facts.latest_nps >= 9,
            }
        )
    standing = "suspended" if facts.suspended else "silenced" if facts.silenced else "ok"
    entries.append(
        {"criterion": "standing", "value": standing, "threshold": "ok", "met": standing == "ok"}
    )
    unmet = sum(1 for entry in entries if not entry["met"])
    detection = AMBASSADOR if unmet == 0 else CANDIDATE if unmet == 1 else ""
    return detection, entries


def describe(entry: dict[str, Any]) -> dict[str, str]:
    """Words for one explanation entry: criterion, the member's value, the threshold."""
    kind, value, threshold = entry.get("criterion"), entry.get("value"), entry.get("threshold")
    label = str(CRITERION_LABELS.get(str(kind), kind))
    if kind == "decile":
        shown = _("decile %(n)s", n=value) if value is not None else _("no engagement yet")
        wanted = _("decile %(n)s or better", n=threshold)
    elif kind == "active":
        shown = _("%(n)s days ago", n=value) if value is not None else _("never active")
        wanted = _("at most %(n)s days ago", n=threshold)
    elif kind == "reach":
        shown = _("%(n)s members", n=value)
        wanted = _("at least %(n)s members", n=threshold)
    elif kind == "nps":
        shown = str(value) if value is not None else _("no answer")
        if entry.get("promoter"):
            shown = _("%(score)s (promoter: strengthens the case)", score=value)
        wanted = _("no answer, or 7 or more")
    else:
        shown = {"ok": _("in good standing"), "silenced": _("silenced")}.get(
            str(value), _("suspended")
        )
        wanted = _("in good standing")
    return {"label": label, "value": shown, "threshold": wanted}


def _status_verb(to_status: str) -> str | None:
    return {
        FLAGGED: verbs.AMBASSADOR_FLAGGED,
        CONFIRMED: verbs.AMBASSADOR_CONFIRMED,
        DISMISSED: verbs.AMBASSADOR_DISMISSED,
    }.get(to_status)


async def _set_status(
    session: AsyncSession,
    score: AnalyticsMemberScore,
    to_status: str,
    *,
    actor_id: int | None,
    note: str,
) -> None:
    """The status, its history row and the member's badge (written at the next flush)."""
    from_status = score.ambassador_status
    score.ambassador_status = to_status
    session.add(
        AmbassadorStatusChange(
            member_id=score.member_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            note=note,
            explanation=list(score.explanation or []),
            created_at=clock.now(),
        )
    )
    member = await session.get(Member, score.member_id)
    if member is not None:
        criteria = await load_criteria(session)
        member.ambassador_badge = criteria.badge_value if to_status == CONFIRMED else ""


async def _record_status(
    session: AsyncSession, member_id: int, to_status: str, *, actor_id: int | None, note: str
) -> None:
    verb = _status_verb(to_status)
    if verb is not None:
        await record(
            session,
            verb,
            actor_id=actor_id,
            recipient_id=member_id,
            subject=("member", member_id),
            data={"status": to_status, "note": note},
        )


async def change_status(
    session: AsyncSession,
    score: AnalyticsMemberScore,
    to_status: str,
    *,
    actor_id: int | None,
    note: str = "",
) -> None:
    """Move a member to a new ambassador status: history row, badge and activity."""
    await _set_status(session, score, to_status, actor_id=actor_id, note=note)
    await session.flush()
    await _record_status(session, score.member_id, to_status, actor_id=actor_id, note=note)


def _detected_status(score: AnalyticsMemberScore, detection: str) -> str | None:
    """The status the detector moves a member to, if any. Operators' decisions (confirmed,
    dismissed) are never changed by the detector."""
    if detection == AMBASSADOR and score.ambassador_status == "":
        return FLAGGED
    if detection != AMBASSADOR and score.ambassador_status == FLAGGED:
        return ""
    return None


async def follow_detections(
    session: AsyncSession, moves: list[tuple[AnalyticsMemberScore, str]]
) -> None:
    """Flag newly detected ambassadors; unflag those not yet reviewed who no longer qualify.
    Every status change and history row is written in one flush, then each change is
    recorded as an activity."""
    changes: list[tuple[int, str]] = []
    for score, detection in moves:
        to_status = _detected_status(score, detection)
        if to_status is not None:
            await _set_status(session, score, to_status, actor_id=None, note="")
            changes.append((score.member_id, to_status))
    if not changes:
        return
    await session.flush()
    for member_id, to_status in changes:
        await _record_status(session, member_id, to_status, actor_id=None, note="")


async def review(
    session: AsyncSession, operator: Member, member_id: int, decision: str, note: str
) -> AnalyticsMemberScore:
    """An operator confirms or dismisses a member as ambassador (any member they can see)."""
    if decision not in (CONFIRMED, DISMISSED):
        raise Invalid(_("Choose confirm or dismiss."), field="decision")
    note = note.strip()
    if len(note) > 500:
        raise Invalid(_("Must be at most %(max)s characters.", max=500), field="note")
    if decision == DISMISSED and not note:
        raise Invalid(_("Say why this member is dismissed."), field="note")
    member = await session.get(Member, member_id)
    if member is None or member.role not in policy.POPULATION_ROLES:
        raise NotFound()
    score = await session.get(AnalyticsMemberScore, member_id)
    if score is None:
        score = AnalyticsMemberScore(member_id=member_id, explanation=[])
        session.add(score)
        await session.flush()
    if score.ambassador_status == decision:
        raise Invalid(_("This member already has that status."), field="decision")
    await change_status(session, score, decision, actor_id=operator.id, note=note)
    return score
