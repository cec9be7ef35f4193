"""What a notification says and where it leads, in the current reader's language.

The same sentence serves the list page (HTML, names linked with the member macro), live pushes
and email (plain text). Names and titles are escaped before they enter HTML; the sentence
around them comes from our own catalogue.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from app.forums.queries import AuthorView
from app.kit.i18n import get_locale, ngettext
from app.kit.i18n import gettext as _
from app.kit.kept import Kept
from app.kit.templating import environment
from app.models import Member, Notification
from app.notifications import kinds
from app.notifications.queries import Entry
from app.points.ladder import current_ladder

# A stored notification, or one as its list reads it; whoever it names, as either.
Said = Notification | Entry
Actor = Member | AuthorView


def target_url(notification: Said) -> str:
    """Where following a notification leads: the post (the forums find its page), the topic,
    or the list itself for notices about no post."""
    if (
        notification.subject_type == "post"
        and notification.subject_id is not None
        and notification.topic_id is not None
    ):
        return f"/p/{notification.subject_id}"
    if notification.topic_id is not None:
        return f"/t/{notification.topic_id}"
    if notification.subject_type == "campaign" and notification.subject_id is not None:
        return f"/campaigns/{notification.subject_id}"
    if notification.subject_type == "survey" and notification.subject_id is not None:
        return f"/surveys/{notification.subject_id}"
    if notification.subject_type == "redemption":
        return "/rewards"
    return "/notifications"


def _name(actor: Actor | None, *, html: bool, absolute: bool) -> str:
    if actor is None:
        return str(escape(_("Someone"))) if html else _("Someone")
    if not html:
        return actor.display_name
    if absolute:
        return str(Markup("<strong>%s</strong>") % actor.display_name)
    if isinstance(actor, AuthorView):
        # A read model holds every value the link shows: the same link, kept per process.
        return _links.get((actor, get_locale(), current_ladder()), _member_link, actor)
    return _member_link(actor)


def _member_link(actor: Actor) -> str:
    macro = environment().get_template("macros/members.html").module.member_link  # type: ignore[attr-defined]
    return str(macro(actor)).strip()


# Actors' links by (name, role and badges; language; rank ladder): a list of notifications
# names the same few people again and again.
_links: Kept[tuple[AuthorView, str, Any], str] = Kept(2048)


def rank_name(notification: Said) -> str:
    data = notification.data
    if get_locale() == "ja" and data.get("rank_name_ja"):
        return str(data["rank_name_ja"])
    return str(data.get("rank_name_en") or data.get("rank_name_ja") or "")


def campaign_title(notification: Said) -> str:
    data = notification.data
    if get_locale() == "ja" and data.get("campaign_title_ja"):
        return str(data["campaign_title_ja"])
    return str(data.get("campaign_title_en") or "")


def reward_name(notification: Said) -> str:
    data = notification.data
    if get_locale() == "ja" and data.get("reward_name_ja"):
        return str(data["reward_name_ja"])
    return str(data.get("reward_name_en") or "")


def headline(notification: Said, actor: Actor | None, *, html: bool, absolute: bool = False) -> str:
    """One sentence. With ``html`` the result is safe markup (returned as ``Markup``)."""
    data = notification.data

    def text(value: Any) -> str:
        return str(escape(value)) if html else str(value)

    def actor_name() -> str:
        return _name(actor, html=html, absolute=absolute)

    def title() -> str:
        return text(data.get("topic_title", ""))

    kind = notification.kind
    if kind == kinds.REPLY:
        said = _("%(actor)s replied in %(title)s", actor=actor_name(), title=title())
    elif kind == kinds.MENTION:
        said = _("%(actor)s mentioned you in %(title)s", actor=actor_name(), title=title())
    elif kind == kinds.QUOTE:
        said = _("%(actor)s quoted you in %(title)s", actor=actor_name(), title=title())
    elif kind == kinds.LIKE:
        others = max(notification.actor_count - 1, 0)
        if others == 0:
            said = _("%(actor)s liked your post in %(title)s", actor=actor_name(), title=title())
        else:
            said = ngettext(
                "%(actor)s and %(num)s other liked your post in %(title)s",
                "%(actor)s and %(num)s others liked your post in %(title)s",
                others,
                actor=actor_name(),
                title=title(),
            )
    elif kind == kinds.ANSWER_ACCEPTED:
        said = _("%(actor)s accepted your answer in %(title)s", actor=actor_name(), title=title())
    elif kind == kinds.RANK_REACHED:
        said = _("You reached the rank %(rank)s", rank=text(rank_name(notification)))
    elif kind == kinds.WARNING:
        said = _("A moderator sent you a warning")
    elif kind == kinds.CAMPAIGN and data.get("selected"):
        said = _(
            "You were selected in the campaign %(campaign)s",
            campaign=text(campaign_title(notification)),
        )
    elif kind == kinds.CAMPAIGN and data.get("not_selected"):
        said = _(
            "You were not selected in the campaign %(campaign)s this time. Thank you for "
            "taking part!",
            campaign=text(campaign_title(notification)),
        )
    elif kind == kinds.CAMPAIGN:
        said = _(
            "A new campaign is open for you: %(campaign)s",
            campaign=text(campaign_title(notification)),
        )
    elif kind == kinds.SURVEY:
        said = _(
            "A survey is waiting for your answer: %(survey)s",
            survey=text(data.get("survey_title", "")),
        )
    elif kind == kinds.REWARD and data.get("fulfilled"):
        said = _("Your reward %(reward)s is on its way", reward=text(reward_name(notification)))
    elif kind == kinds.REWARD:
        said = _(
            "Your request for the reward %(reward)s was declined; your points were returned",
            reward=text(reward_name(notification)),
        )
    elif kind == kinds.FLAG_RESOLVED and data.get("outcome") == "accepted":
        said = _("A moderator reviewed your flag and took action. Thank you.")
    elif kind == kinds.FLAG_RESOLVED:
        said = _("A moderator reviewed your flag and decided no action was needed.")
    else:
        said = _("You have a new notification")
    return Markup(said) if html else said


def detail(notification: Said) -> str:
    """Extra words shown under the sentence (a warning's reason, a flag's outcome)."""
    data = notification.data
    return str(data.get("reason") or data.get("outcome") or data.get("message") or "")
