"""What each kind of notification says, in both languages, as text and as markup: every value
it names is in its sentence, escaped in markup, and nothing of another kind's values is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.forums.queries import AuthorView
from app.kit.i18n import set_locale
from app.notifications import kinds
from app.notifications.queries import Entry
from app.notifications.text import headline

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ACTOR = AuthorView(7, "yuki", "Yuki <b>", "member", None, "")
TITLE = "Tea & <cake>"


def entry(kind: str, count: int = 1, **data: Any) -> Entry:
    return Entry(1, kind, ACTOR.id, count, "post", 10, 20, data, WHEN, WHEN, None)


# (kind, how many actors, data, the English sentence as text)
CASES = [
    (kinds.REPLY, 1, {"topic_title": TITLE}, "Yuki <b> replied in Tea & <cake>"),
    (kinds.MENTION, 1, {"topic_title": TITLE}, "Yuki <b> mentioned you in Tea & <cake>"),
    (kinds.QUOTE, 1, {"topic_title": TITLE}, "Yuki <b> quoted you in Tea & <cake>"),
    (kinds.LIKE, 1, {"topic_title": TITLE}, "Yuki <b> liked your post in Tea & <cake>"),
    (
        kinds.LIKE,
        2,
        {"topic_title": TITLE},
        "Yuki <b> and 1 other liked your post in Tea & <cake>",
    ),
    (
        kinds.LIKE,
        5,
        {"topic_title": TITLE},
        "Yuki <b> and 4 others liked your post in Tea & <cake>",
    ),
    (
        kinds.ANSWER_ACCEPTED,
        1,
        {"topic_title": TITLE},
        "Yuki <b> accepted your answer in Tea & <cake>",
    ),
    (
        kinds.RANK_REACHED,
        1,
        {"rank_name_en": "Gold <1>", "rank_name_ja": "金"},
        "You reached the rank Gold <1>",
    ),
    (kinds.WARNING, 1, {"reason": "spam"}, "A moderator sent you a warning"),
    (
        kinds.CAMPAIGN,
        1,
        {"campaign_title_en": "Spring & <trial>", "selected": True},
        "You were selected in the campaign Spring & <trial>",
    ),
    (
        kinds.CAMPAIGN,
        1,
        {"campaign_title_en": "Spring & <trial>", "not_selected": True},
        "You were not selected in the campaign Spring & <trial> this time. "
        "Thank you for taking part!",
    ),
    (
        kinds.CAMPAIGN,
        1,
        {"campaign_title_en": "Spring & <trial>"},
        "A new campaign is open for you: Spring & <trial>",
    ),
    (
        kinds.SURVEY,
        1,
        {"survey_title": "NPS <2026>"},
        "A survey is waiting for your answer: NPS <2026>",
    ),
    (
        kinds.REWARD,
        1,
        {"reward_name_en": "Mug & <cup>", "fulfilled": True},
        "Your reward Mug & <cup> is on its way",
    ),
    (
        kinds.REWARD,
        1,
        {"reward_name_en": "Mug & <cup>"},
        "Your request for the reward Mug & <cup> was declined; your points were returned",
    ),
    (
        kinds.FLAG_RESOLVED,
        1,
        {"outcome": "accepted"},
        "A moderator reviewed your flag and took action. Thank you.",
    ),
    (
        kinds.FLAG_RESOLVED,
        1,
        {"outcome": "rejected"},
        "A moderator reviewed your flag and decided no action was needed.",
    ),
    ("something_new", 1, {}, "You have a new notification"),
]


@pytest.fixture(autouse=True)
def english_afterwards() -> Any:
    yield
    set_locale("en")


@pytest.mark.parametrize(("kind", "count", "data", "expected"), CASES)
def test_each_kind_says_its_sentence_with_its_values(
    kind: str, count: int, data: dict[str, Any], expected: str
) -> None:
    set_locale("en")
    said = entry(kind, count, **data)
    assert headline(said, ACTOR, html=False) == expected
    markup = headline(said, ACTOR, html=True)
    # Every value is escaped in markup; the actor is the member link (with its profile URL).
    for raw in ("<cake>", "<trial>", "<cup>", "<1>", "<2026>", "<b>"):
        assert raw not in markup
    if "Yuki" in expected:
        assert 'href="/u/yuki"' in markup
        assert "Yuki &lt;b&gt;" in markup
        # The same link, kept, for the next notification that names the same member.
        assert headline(said, ACTOR, html=True) == markup
    for value in ("Tea", "Gold", "Spring", "NPS", "Mug"):
        assert (value in markup) == (value in expected)


def test_sentences_follow_the_readers_language() -> None:
    like = entry(kinds.LIKE, 3, topic_title=TITLE)
    rank = entry(kinds.RANK_REACHED, rank_name_en="Gold", rank_name_ja="金")
    set_locale("ja")
    japanese = headline(like, ACTOR, html=False)
    assert "Yuki <b>" in japanese
    assert TITLE in japanese
    assert "2" in japanese
    assert japanese != "Yuki <b> and 2 others liked your post in Tea & <cake>"
    assert "金" in headline(rank, None, html=False)
    set_locale("en")
    assert headline(rank, None, html=False) == "You reached the rank Gold"
    # Nobody to name: "Someone", escaped like any name.
    assert headline(like, None, html=False).startswith("Someone and 2 others")
