"""Advocate types (Forrester): what kind of advocacy a member's activity shows.

Signals, counted over the last 180 days from the member's daily rollups:

- educator: answers written, plus 2 x answers of theirs that were accepted;
- validator: likes given (net of likes taken back) and votes cast, plus 2 x surveys answered
  and 2 x product reviews written;
- status seeker: 2 x topics started, plus half the likes received;
- collaborator: replies in discussions, plus 3 x campaigns entered.

The type is the highest signal once it reaches :data:`MIN_SIGNAL`; ties go in the order above.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.activity import verbs
from app.kit.i18n import LazyString, lazy_gettext

ADVOCATE_TYPES = ("educator", "validator", "status_seeker", "collaborator")
MIN_SIGNAL = 5.0
SIGNAL_DAYS = 180

LABELS: dict[str, LazyString] = {
    "educator": lazy_gettext("Educator"),
    "validator": lazy_gettext("Validator"),
    "status_seeker": lazy_gettext("Status seeker"),
    "collaborator": lazy_gettext("Collaborator"),
    "": lazy_gettext("Not yet known"),
}

# (verb, done or received) -> weight, per type.
SIGNALS: dict[str, dict[tuple[str, str], float]] = {
    "educator": {(verbs.ANSWER_CREATED, "done"): 1, (verbs.ANSWER_ACCEPTED, "received"): 2},
    "validator": {
        (verbs.LIKE_GIVEN, "done"): 1,
        (verbs.LIKE_UNDONE, "done"): -1,
        (verbs.VOTE_CAST, "done"): 1,
        (verbs.SURVEY_ANSWERED, "done"): 2,
        (verbs.REVIEW_CREATED, "done"): 2,
    },
    "status_seeker": {(verbs.TOPIC_CREATED, "done"): 2, (verbs.LIKE_GIVEN, "received"): 0.5},
    "collaborator": {(verbs.POST_CREATED, "done"): 1, (verbs.CAMPAIGN_ENTERED, "done"): 3},
}


def signals(counts: Mapping[tuple[str, str], int]) -> dict[str, float]:
    """Each type's signal from counts keyed by (verb, "done" | "received")."""
    return {
        kind: sum(weight * counts.get(key, 0) for key, weight in table.items())
        for kind, table in SIGNALS.items()
    }


def advocate_type(counts: Mapping[tuple[str, str], int]) -> str:
    scored = signals(counts)
    best = max(ADVOCATE_TYPES, key=lambda kind: (scored[kind], -ADVOCATE_TYPES.index(kind)))
    return best if scored[best] >= MIN_SIGNAL else ""


def signal_verbs() -> set[str]:
    return {verb for table in SIGNALS.values() for verb, _side in table}
