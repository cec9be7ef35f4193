"""Who may see and change analytics, and the documented defaults an admin can override."""

from __future__ import annotations

from typing import Any

from app.activity import verbs
from app.kit.errors import Forbidden
from app.kit.i18n import lazy_gettext
from app.models import Member, Role

# The engagement weight of each verb, for the member who did it, and ("verb:received") for the
# member it was done to. Verbs not listed weigh nothing. Admins override these in the settings.
DEFAULT_WEIGHTS: dict[str, float] = {
    verbs.VISITED: 1,
    verbs.TOPIC_CREATED: 3,
    verbs.POST_CREATED: 2,
    verbs.ANSWER_CREATED: 3,
    verbs.LIKE_GIVEN: 1,
    verbs.LIKE_UNDONE: -1,
    verbs.VOTE_CAST: 1,
    verbs.SURVEY_ANSWERED: 2,
    verbs.CAMPAIGN_ENTERED: 2,
    f"{verbs.LIKE_GIVEN}:received": 1,
    f"{verbs.LIKE_UNDONE}:received": -1,
    f"{verbs.POST_CREATED}:received": 1,
    f"{verbs.ANSWER_ACCEPTED}:received": 5,
    f"{verbs.ANSWER_UNACCEPTED}:received": -5,
}
DEFAULT_MONTHLY_DECAY = 0.10

# Ambassador criteria defaults (see README, "Analytics").
DEFAULT_TOP_DECILES = 1
DEFAULT_ACTIVE_DAYS = 30
DEFAULT_MIN_REACH = 5
REACH_DAYS = 90

# Members are the analytics population; staff activity would skew deciles and detection.
POPULATION_ROLES = (Role.member.value,)
# Everybody else (a handful of members, found by the role's index).
STAFF_ROLES = tuple(role.value for role in Role if role.value not in POPULATION_ROLES)


def can_read(member: Member) -> bool:
    return member.can_operate


def can_edit_settings(member: Member) -> bool:
    return member.is_admin


def check_edit_settings(member: Member) -> None:
    if not can_edit_settings(member):
        raise Forbidden(lazy_gettext("Only admins can change the analytics settings."))


def effective_weights(overrides: dict[str, Any] | None) -> dict[str, float]:
    weights = dict(DEFAULT_WEIGHTS)
    for key, value in (overrides or {}).items():
        if isinstance(value, int | float):
            weights[str(key)] = float(value)
    return weights
