"""Translated names of campaign kinds, states, audiences and statuses, for pages and exports."""

from __future__ import annotations

from app.kit.i18n import LazyString, lazy_gettext

LABELS: dict[str, LazyString] = {
    # kinds
    "application": lazy_gettext("Application"),
    "post": lazy_gettext("Post"),
    "survey": lazy_gettext("Survey"),
    "event": lazy_gettext("Event"),
    # states
    "draft": lazy_gettext("Draft"),
    "scheduled": lazy_gettext("Scheduled"),
    "open": lazy_gettext("Open"),
    "closed": lazy_gettext("Closed"),
    "announced": lazy_gettext("Results announced"),
    # audiences
    "everyone": lazy_gettext("Everyone"),
    "rank": lazy_gettext("Members of a minimum rank"),
    "segment": lazy_gettext("A saved segment"),
    "ambassadors": lazy_gettext("Ambassadors"),
    "candidates": lazy_gettext("Ambassador candidates"),
    "invited": lazy_gettext("Invited members"),
    "others": lazy_gettext("Everyone else"),
    # selection
    "first_come": lazy_gettext("First come, first served"),
    "lottery": lazy_gettext("Lottery after the close"),
    # question kinds
    "text": lazy_gettext("Text"),
    "choice": lazy_gettext("Choice"),
    "yes_no": lazy_gettext("Yes / no"),
    "nps": lazy_gettext("NPS (0-10)"),
    # entry and redemption statuses
    "entered": lazy_gettext("Entered"),
    "selected": lazy_gettext("Selected"),
    "not_selected": lazy_gettext("Not selected"),
    "pending": lazy_gettext("Pending"),
    "fulfilled": lazy_gettext("Fulfilled"),
    "refused": lazy_gettext("Refused"),
}


def label(value: str) -> str:
    found = LABELS.get(value)
    return str(found) if found is not None else value
