from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import update

from app.kit.i18n import format_when, negotiate_locale, set_locale, set_timezone
from app.models import Member


async def test_japanese_browser_gets_japanese_pages(client):
    page = await client.get("/signin", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in page.text
    assert "ログイン" in page.text
    assert "メールアドレス" in page.text
    english = await client.get("/signin", headers={"Accept-Language": "en-US,ja;q=0.3"})
    assert "Sign in" in english.text
    assert "ログイン" not in english.text.split("<footer")[0]


def test_accept_language_honours_quality():
    assert negotiate_locale("fr, ja;q=0.8, en;q=0.9", "ja") == "en"
    assert negotiate_locale("de", "ja") == "ja"
    assert negotiate_locale("ja-JP", "en") == "ja"
    assert negotiate_locale("en;q=0, ja;q=0.1", "en") == "ja"


async def test_switcher_sets_language_for_visitor_and_member(
    client, member_factory, login, database
):
    response = await client.submit("/locale", {"locale": "ja", "next": "/signin"})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert "ログイン" in (await client.get("/signin")).text

    member = await member_factory(locale="en")
    await login(client, member)
    # the member's own setting beats the cookie and the browser
    assert "Settings" in (await client.get("/", headers={"Accept-Language": "ja"})).text
    await client.submit("/locale", {"locale": "ja", "next": "/"})
    assert "設定" in (await client.get("/", headers={"Accept-Language": "en"})).text


async def test_switcher_refuses_unknown_language_and_open_redirects(client):
    bad = await client.submit("/locale", {"locale": "xx"})
    assert bad.status_code == 422
    off_site = await client.submit("/locale", {"locale": "en", "next": "//evil.example/"})
    assert off_site.headers["location"] == "/"


async def test_dates_follow_the_members_time_zone(client, member_factory, login, database):
    member = await member_factory(locale="ja")
    async with database.transaction() as session:
        await session.execute(
            update(Member)
            .where(Member.id == member.id)
            .values(created_at=datetime(2026, 1, 1, 20, 0, tzinfo=UTC))
        )
    await login(client, member)
    tokyo = await client.get(f"/u/{member.handle}")
    assert "2026年1月2日" in tokyo.text  # 05:00 on 2 January in Tokyo
    await client.send_json("PATCH", "/api/v1/me", {"timezone": "America/New_York", "locale": "en"})
    new_york = await client.get(f"/u/{member.handle}")
    assert "January 1, 2026" in new_york.text


def test_template_messages_keep_each_readers_language_and_escape_their_values():
    """Template text is translated into each language's templates once (app.kit.templating):
    English and Japanese readers in turn each get their own, ``%%`` still reads ``%`` as
    Jinja's newstyle gettext formats it, a translated message is as safe as before (what is
    joined to it is escaped, an attribute's ``_`` is left alone), and values put into a
    message are escaped. The messages translated in match those translated as the page
    renders (``{% trans %}``)."""
    from app.kit.i18n import set_locale
    from app.kit.templating import environment

    source = (
        '{{ _("Sign in") }}|{{ _("100%% sure") }}|{% trans %}Sign in{% endtrans %}|'
        '{{ _("Hello %(name)s", name=name) }}|{{ _("Sign in") ~ name }}|{{ obj._("Sign in") }}'
    )

    class Echo:
        def _(self, text: str) -> str:
            return f"<{text}>"

    readers = []
    try:
        for locale in ("en", "ja", "en", "ja"):
            set_locale(locale)
            template = environment().from_string(source)
            readers.append(template.render(name="<b>Aki</b>", obj=Echo()))
    finally:
        set_locale("en")
    english, japanese = readers[0], readers[1]
    assert readers[2:] == [english, japanese]
    assert english == (
        "Sign in|100% sure|Sign in|Hello &lt;b&gt;Aki&lt;/b&gt;|Sign in&lt;b&gt;Aki&lt;/b&gt;"
        "|&lt;Sign in&gt;"
    )
    assert japanese.split("|")[0] == japanese.split("|")[2] == "ログイン"
    assert japanese.split("|")[4] == "ログイン&lt;b&gt;Aki&lt;/b&gt;"
    assert "&lt;b&gt;Aki&lt;/b&gt;" in japanese


def test_plain_text_templates_get_messages_unescaped_and_unmarked():
    """A template that does not escape (mail's plain text) gets a translated message as
    plain text: what is joined to it stays as written."""
    from app.kit.i18n import set_locale
    from app.kit.templating import environment

    set_locale("ja")
    try:
        plain = environment().overlay(autoescape=False).from_string('{{ _("Sign in") ~ name }}')
        assert plain.render(name="<b>Aki</b>") == "ログイン<b>Aki</b>"
    finally:
        set_locale("en")


def test_dates_read_as_babel_writes_them_in_every_style_language_and_zone():
    """format_when looks babel's patterns up once; what it writes must stay babel's own
    format_datetime, to the character, across daylight saving changes and a year's end."""
    start = datetime(2025, 12, 31, 23, 59, 30, tzinfo=UTC)
    moments = [start + timedelta(hours=7 * step, minutes=step) for step in range(0, 1400, 13)]
    zones = ("Asia/Tokyo", "America/New_York", "Europe/London", "UTC")
    checked = 0
    for locale in ("en", "ja"):
        set_locale(locale)
        for zone in zones:
            set_timezone(zone)
            for style in ("full", "long", "medium", "short"):
                for moment in moments:
                    expected = format_datetime(
                        moment.astimezone(ZoneInfo(zone)), format=style, locale=locale
                    )
                    assert format_when(moment, style) == expected, (locale, zone, style, moment)
                    checked += 1
    set_locale("en")
    set_timezone("UTC")
    assert checked == 2 * 4 * 4 * len(moments)
    # A pattern of its own still goes through babel, and a missing date is blank.
    assert format_when(start, "yyyy-MM-dd HH:mm") == "2025-12-31 23:59"
    assert format_when(None) == ""
