"""Kinds of notification, what a member may choose for each, and the defaults."""

from __future__ import annotations

from app.kit.i18n import LazyString, lazy_gettext

REPLY = "reply"
MENTION = "mention"
QUOTE = "quote"
LIKE = "like"
ANSWER_ACCEPTED = "answer_accepted"
RANK_REACHED = "rank_reached"
WARNING = "warning"
FLAG_RESOLVED = "flag_resolved"
CAMPAIGN = "campaign"
SURVEY = "survey"
REWARD = "reward"

APP = "app"
EMAIL = "email"
OFF = "off"
CHANNELS = (APP, EMAIL, OFF)

DIGEST = "digest"
DIGEST_CHOICES = ("off", "daily", "weekly")

# (kind, label, default channel), in the order the preferences page lists them.
KINDS: tuple[tuple[str, LazyString, str], ...] = (
    (REPLY, lazy_gettext("Replies to my topics and posts"), EMAIL),
    (MENTION, lazy_gettext("Mentions of me"), EMAIL),
    (QUOTE, lazy_gettext("Quotes of my posts"), APP),
    (LIKE, lazy_gettext("Likes on my posts"), APP),
    (ANSWER_ACCEPTED, lazy_gettext("My answer was accepted"), EMAIL),
    (RANK_REACHED, lazy_gettext("I reached a new rank"), APP),
    (WARNING, lazy_gettext("Warnings from moderators"), EMAIL),
    (FLAG_RESOLVED, lazy_gettext("Outcomes of my flags"), APP),
    (CAMPAIGN, lazy_gettext("Campaigns for me, and being selected"), APP),
    (SURVEY, lazy_gettext("Surveys for me"), APP),
    (REWARD, lazy_gettext("My reward redemptions"), EMAIL),
)
KIND_NAMES = frozenset(kind for kind, _label, _default in KINDS)
DEFAULTS = {kind: default for kind, _label, default in KINDS}
CHANNEL_LABELS = {
    APP: lazy_gettext("In the app"),
    EMAIL: lazy_gettext("In the app and by email"),
    OFF: lazy_gettext("Off"),
}
DIGEST_LABELS = {
    "off": lazy_gettext("No digest"),
    "daily": lazy_gettext("Daily digest"),
    "weekly": lazy_gettext("Weekly digest"),
}


def label(kind: str) -> str:
    for name, text, _default in KINDS:
        if name == kind:
            return str(text)
    if kind == DIGEST:
        return str(lazy_gettext("Digest"))
    return kind
