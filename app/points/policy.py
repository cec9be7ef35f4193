"""Points and ranks: the documented defaults, what each verb means, and who may see what.

Default rules (admins change them at /admin/points; a change applies from then on):

| activity                  | actor | recipient | daily cap |
|---------------------------|------:|----------:|----------:|
| daily visit               |     1 |           |  once/day |
| sign-up welcome           |    10 |           |      once |
| completing the profile    |    10 |           |      once |
| new topic                 |     5 |           |           |
| reply                     |     2 |           |           |
| answer                    |     5 |           |           |
| answer accepted           |     2 |        15 |           |
| like received             |       |         1 |        50 |
| answer up-vote received   |       |         5 |           |
| entering a campaign       |     3 |           |           |
| selected in a campaign    |    10 |           |           |
| attending an event        |    10 |           |           |
| reviewing a product       |     3 |           |   9 a day |
| answering a survey        |     2 |           |           |

Campaign entries, selections and attendance pay once per member and campaign, a review once
per member and product (editing it pays nothing more), a survey answer once per survey. These
five came with migration 0010. Why they pay:

- attending an event is real participation (showing up, not just clicking "RSVP"), so it pays
  like being selected;
- answering an NPS survey pays a little, the same for every score, so the reward asks for an
  answer and never for a particular one.

Some verbs are bookkeeping, never participation, and can never pay (see ``UNPAYABLE``; the
admin page does not offer them): ``campaign.opened`` and ``survey.opened`` (the operator's
act), ``campaign.not_selected`` (a lottery result), ``reward.redeemed`` /
``reward.fulfilled`` / ``reward.refused`` (spending points must not earn points),
``ambassador.*`` (an operator's or the detector's decision; the recognition is the badge),
``member.imported`` (the brand's data), and the moderation outcomes ``post.hidden`` /
``flag.resolved`` / ``member.warned`` / ``member.silenced`` / ``member.suspended``
(sanctions; a hide also records ``post.removed``, which reverses points).

Default ranks (lifetime points): Newcomer 0, Regular 50, Enthusiast 200, Supporter 500,
Champion 1500, Legend 5000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.activity import verbs
from app.kit import clock
from app.kit.i18n import LazyString, lazy_gettext
from app.models import Member


@dataclass(frozen=True)
class DefaultRule:
    verb: str
    actor_points: int = 0
    recipient_points: int = 0
    daily_cap: int | None = None


DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule(verbs.VISITED, actor_points=1),
    DefaultRule(verbs.SIGNED_UP, actor_points=10),
    DefaultRule(verbs.PROFILE_COMPLETED, actor_points=10),
    DefaultRule(verbs.TOPIC_CREATED, actor_points=5),
    DefaultRule(verbs.POST_CREATED, actor_points=2),
    DefaultRule(verbs.ANSWER_CREATED, actor_points=5),
    DefaultRule(verbs.ANSWER_ACCEPTED, actor_points=2, recipient_points=15),
    DefaultRule(verbs.LIKE_GIVEN, recipient_points=1, daily_cap=50),
    DefaultRule(verbs.VOTE_CAST, recipient_points=5),
    DefaultRule(verbs.CAMPAIGN_ENTERED, actor_points=3),
    DefaultRule(verbs.CAMPAIGN_SELECTED, actor_points=10),
    DefaultRule(verbs.CAMPAIGN_ATTENDED, actor_points=10),
    DefaultRule(verbs.REVIEW_CREATED, actor_points=3, daily_cap=9),
    DefaultRule(verbs.SURVEY_ANSWERED, actor_points=2),
)


@dataclass(frozen=True)
class DefaultRank:
    name_en: str
    name_ja: str
    threshold: int
    colour: str
    badge: str
    benefits_en: str
    benefits_ja: str


DEFAULT_RANKS: tuple[DefaultRank, ...] = (
    DefaultRank(
        "Newcomer",
        "ビギナー",
        0,
        "#5c5654",
        "🌱",
        "Welcome! Say hello, ask anything, and earn points for taking part.",
        "ようこそ！あいさつや質問から始めて、参加するたびにポイントを獲得しましょう。",
    ),
    DefaultRank(
        "Regular",
        "レギュラー",
        50,
        "#1e6b34",
        "🍀",
        "Your rank badge appears next to your name everywhere in the community.",
        "コミュニティ内のあなたの名前の横にランクバッジが表示されます。",
    ),
    DefaultRank(
        "Enthusiast",
        "エンスージアスト",
        200,
        "#0b57a4",
        "🔥",
        "Early access to announcements and new-product news.",
        "お知らせや新商品情報をいち早くお届けします。",
    ),
    DefaultRank(
        "Supporter",
        "サポーター",
        500,
        "#6a3fb5",
        "💎",
        "Invitations to member-only campaigns and categories.",
        "会員限定キャンペーンや限定カテゴリーにご招待します。",
    ),
    DefaultRank(
        "Champion",
        "チャンピオン",
        1500,
        "#b3261e",
        "🏅",
        "Invitations to product feedback sessions and member-only events.",
        "商品開発の座談会や会員限定イベントにご招待します。",
    ),
    DefaultRank(
        "Legend",
        "レジェンド",
        5000,
        "#8a5a00",
        "👑",
        "Featured on the community home, and a first look at new products.",
        "コミュニティのトップで紹介され、新商品をいち早く体験できます。",
    ),
)

# Verbs that undo an earlier action: (the verb they undo, whether only the same actor's award).
REVERSAL_OF: dict[str, tuple[str, bool]] = {
    verbs.LIKE_UNDONE: (verbs.LIKE_GIVEN, True),
    verbs.ANSWER_UNACCEPTED: (verbs.ANSWER_ACCEPTED, False),
}
# Verbs that never pay: rank-ups are caused by points, removals are handled as reversals, and
# the rest is bookkeeping (operators' acts, results, spending, sanctions; see the docstring).
UNPAYABLE = frozenset(
    {
        verbs.RANK_REACHED,
        verbs.LIKE_UNDONE,
        verbs.ANSWER_UNACCEPTED,
        verbs.POST_REMOVED,
        verbs.POST_RESTORED,
        verbs.CAMPAIGN_OPENED,
        verbs.SURVEY_OPENED,
        verbs.CAMPAIGN_NOT_SELECTED,
        verbs.REWARD_REDEEMED,
        verbs.REWARD_FULFILLED,
        verbs.REWARD_REFUSED,
        verbs.AMBASSADOR_FLAGGED,
        verbs.AMBASSADOR_CONFIRMED,
        verbs.AMBASSADOR_DISMISSED,
        verbs.MEMBER_IMPORTED,
        verbs.POST_HIDDEN,
        verbs.FLAG_RESOLVED,
        verbs.MEMBER_WARNED,
        verbs.MEMBER_SILENCED,
        verbs.MEMBER_SUSPENDED,
    }
)

KIND_LABELS: dict[str, LazyString] = {
    verbs.VISITED: lazy_gettext("Daily visit"),
    verbs.SIGNED_UP: lazy_gettext("Welcome bonus for joining"),
    verbs.PROFILE_COMPLETED: lazy_gettext("Completing your profile"),
    verbs.TOPIC_CREATED: lazy_gettext("Starting a topic"),
    verbs.POST_CREATED: lazy_gettext("Replying"),
    verbs.ANSWER_CREATED: lazy_gettext("Answering a question"),
    verbs.ANSWER_ACCEPTED: lazy_gettext("Accepted answer"),
    verbs.LIKE_GIVEN: lazy_gettext("Like received"),
    verbs.VOTE_CAST: lazy_gettext("Up-vote on an answer"),
    verbs.CAMPAIGN_ENTERED: lazy_gettext("Entering a campaign"),
    verbs.CAMPAIGN_SELECTED: lazy_gettext("Selected in a campaign"),
    verbs.CAMPAIGN_ATTENDED: lazy_gettext("Attending an event"),
    verbs.REVIEW_CREATED: lazy_gettext("Reviewing a product"),
    verbs.SURVEY_ANSWERED: lazy_gettext("Answering a survey"),
    verbs.FLAG_ACCEPTED: lazy_gettext("Helpful flag"),
    # The ledger kind of a reward redemption (app.campaigns.rewards.LEDGER_KIND).
    verbs.REWARD_REDEEMED: lazy_gettext("Reward redeemed"),
    "adjustment": lazy_gettext("Adjustment by an admin"),
    "external": lazy_gettext("Award from the brand"),
}
ACTOR_LABELS: dict[str, LazyString] = {
    verbs.ANSWER_ACCEPTED: lazy_gettext("Accepting an answer to your question"),
}
# Reversal rows that are not "taking back" an award: a refused redemption refunds the points.
REVERSAL_LABELS: dict[str, LazyString] = {
    verbs.REWARD_REDEEMED: lazy_gettext("Refund for a refused reward"),
}

MAX_RULE_POINTS = 1000
MAX_MANUAL_POINTS = 100_000
# The highest lifetime total a rank or a category's rank gate may ask for.
MAX_RANK_THRESHOLD = 100_000_000


def kind_label(kind: str, side: str = "", *, reversal: bool = False) -> str:
    if reversal and kind in REVERSAL_LABELS:
        return str(REVERSAL_LABELS[kind])
    if side == "actor" and kind in ACTOR_LABELS:
        return str(ACTOR_LABELS[kind])
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


def payable_verbs() -> list[str]:
    """Verbs an admin may attach a rule to (everything known except undo verbs)."""
    known = [
        value
        for name, value in vars(verbs).items()
        if name.isupper() and isinstance(value, str) and "." in value
    ]
    return [verb for verb in known if verb not in UNPAYABLE]


def is_restricted(member: Any, moment: datetime | None = None) -> bool:
    """Silenced or suspended members earn nothing. ``member`` is a Member or a row with its
    ``silenced_until`` and ``suspended_until``."""
    now = moment or clock.now()
    for column in ("silenced_until", "suspended_until"):
        until: Any = getattr(member, column, None)
        if isinstance(until, datetime) and until > now:
            return True
    return False


def may_see_ledger(viewer: Member, member_id: int) -> bool:
    """A member's ledger is theirs; staff who moderate or operate may read anyone's."""
    return viewer.id == member_id or viewer.can_moderate or viewer.can_operate
