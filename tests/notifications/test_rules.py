"""Who is told about what: replies, mentions, quotes, grouped likes, accepted answers, ranks,
moderator notices; never the actor, never about a topic the recipient may not see."""

from __future__ import annotations

from sqlalchemy import update

from app.activity import verbs
from app.models import Member
from app.notifications import kinds
from app.notifications import service as notifications
from app.uploads import service as uploads
from tests.notifications.helpers import (
    like,
    make_topic,
    notifications_of,
    record,
    reply,
    unread_of,
)
from tests.statements import counting
from tests.uploads.images import image_bytes


async def test_reply_to_my_topic_shows_in_the_bell_and_the_list(
    client, database, member_factory, login
):
    author = await member_factory(name="Aiko", locale="en")
    replier = await member_factory(name="Ken", locale="en")
    topic = await make_topic(database, author, title="Best ramen in Sapporo?")

    await reply(database, replier, topic)

    await login(client, author)
    home = await client.get("/")
    assert 'id="bell-count" >1</span>' in home.text or ">1</span>" in home.text
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "Ken" in page.text
    assert "replied in Best ramen in Sapporo?" in page.text
    assert await notifications_of(database, replier) == []


async def test_one_notification_per_person_the_most_specific_kind_wins(database, member_factory):
    author = await member_factory(locale="en")
    quoted = await member_factory(locale="en")
    mentioned = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    topic = await make_topic(database, author)

    await reply(
        database,
        replier,
        topic,
        mentions=[author.id, quoted.id, mentioned.id, replier.id],
        quoted=[quoted.id],
        reply_to=author.id,
    )

    assert [n.kind for n in await notifications_of(database, author)] == ["reply"]
    assert [n.kind for n in await notifications_of(database, quoted)] == ["quote"]
    assert [n.kind for n in await notifications_of(database, mentioned)] == ["mention"]
    assert await notifications_of(database, replier) == []
    assert await unread_of(database, mentioned) == 1


async def test_answers_notify_like_replies(database, member_factory):
    asker = await member_factory(locale="en")
    answerer = await member_factory(locale="en")
    topic = await make_topic(database, asker, title="How do I pair the speaker?")
    await reply(database, answerer, topic, verb=verbs.ANSWER_CREATED)
    rows = await notifications_of(database, asker)
    assert [row.kind for row in rows] == ["reply"]
    assert rows[0].data["topic_title"] == "How do I pair the speaker?"


async def test_nobody_hears_of_a_topic_they_cannot_see(database, member_factory):
    staff = await member_factory(role="moderator", locale="en")
    member = await member_factory(locale="en")
    hidden = await make_topic(database, staff, title="Staff only plans", visibility="staff")

    await reply(database, staff, hidden, mentions=[member.id])
    await like(database, staff, member, hidden, 77)

    assert await notifications_of(database, member) == []
    assert await unread_of(database, member) == 0


async def test_who_may_hear_of_a_gated_topic_follows_their_role_points_and_address(
    database, member_factory
):
    """The rules are asked about each recipient as they are now: a rank-gated category by
    their lifetime points, a staff-only one by their role, and nobody with an unconfirmed
    address; a grouped like follows the same rules as a mention."""
    author = await member_factory(role="moderator", locale="en")
    moderator = await member_factory(role="moderator", locale="en")
    newcomer = await member_factory(locale="en")
    regular = await member_factory(locale="en")
    unconfirmed = await member_factory(locale="en", verified=False)
    async with database.transaction() as session:
        await session.execute(
            update(Member).where(Member.id == regular.id).values(lifetime_points=150)
        )
    gated = await make_topic(
        database, author, title="Regulars' corner", visibility="min_rank", min_rank_threshold=100
    )
    staff_only = await make_topic(database, author, title="Staff room", visibility="staff")
    everyone = [moderator.id, newcomer.id, regular.id, unconfirmed.id]

    await reply(database, author, gated, mentions=everyone)
    await reply(database, author, staff_only, mentions=everyone)
    await like(database, author, regular, gated, 601)
    await like(database, author, newcomer, gated, 602)

    async def told(member: Member) -> list[tuple[str, str]]:
        return [(n.kind, n.data["topic_title"]) for n in await notifications_of(database, member)]

    assert sorted(await told(moderator)) == [
        ("mention", "Regulars' corner"),
        ("mention", "Staff room"),
    ]
    assert sorted(await told(regular)) == [
        ("like", "Regulars' corner"),
        ("mention", "Regulars' corner"),
    ]
    assert await told(newcomer) == []
    assert await told(unconfirmed) == []
    assert await unread_of(database, regular) == 2


async def test_likes_are_grouped_on_one_unread_row(client, database, member_factory, login):
    author = await member_factory(locale="en")
    fans = [await member_factory(name=f"Fan {i}", locale="en") for i in range(5)]
    topic = await make_topic(database, author, title="My latte art")
    post = 501

    for fan in fans:
        await like(database, fan, author, topic, post)
    await like(database, fans[0], author, topic, post)  # the same person again counts once

    rows = await notifications_of(database, author)
    assert len(rows) == 1
    assert rows[0].actor_count == 5
    assert await unread_of(database, author) == 1
    await login(client, author)
    page = await client.get("/notifications")
    assert "Fan 4" in page.text
    assert "and 4 others liked your post in My latte art" in page.text

    await like(database, fans[4], author, topic, post, undo=True)
    rows = await notifications_of(database, author)
    assert rows[0].actor_count == 4
    page = await client.get("/notifications")
    assert "Fan 3" in page.text
    assert "and 3 others liked your post" in page.text

    await client.submit(f"/notifications/{rows[0].id}/read")
    await like(database, fans[4], author, topic, post)
    rows = await notifications_of(database, author)
    assert [row.actor_count for row in rows] == [4, 1]
    assert await unread_of(database, author) == 1


async def test_an_unlike_of_the_only_like_removes_the_notice(database, member_factory):
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    topic = await make_topic(database, author)
    await like(database, fan, author, topic, 9)
    assert await unread_of(database, author) == 1
    await like(database, fan, author, topic, 9, undo=True)
    assert await notifications_of(database, author) == []
    assert await unread_of(database, author) == 0


async def test_accepted_answer_rank_and_moderation_notices(client, database, member_factory, login):
    asker = await member_factory(name="Asker", locale="en")
    member = await member_factory(locale="en")
    moderator = await member_factory(role="moderator", locale="en")
    topic = await make_topic(database, asker, title="Which beans?")

    await record(
        database,
        verbs.ANSWER_ACCEPTED,
        actor_id=asker.id,
        recipient_id=member.id,
        subject=("post", 42),
        data={"topic_id": topic.id, "asker_id": asker.id},
    )
    await record(
        database,
        verbs.RANK_REACHED,
        actor_id=member.id,
        recipient_id=member.id,
        subject=("rank", 3),
        data={"rank_id": 3, "rank_name_en": "Regular", "rank_name_ja": "常連"},
    )
    await record(
        database,
        verbs.MEMBER_WARNED,
        actor_id=moderator.id,
        recipient_id=member.id,
        subject=("member", member.id),
        data={"reason": "Please keep it friendly."},
    )
    await record(
        database,
        verbs.FLAG_RESOLVED,
        actor_id=moderator.id,
        recipient_id=member.id,
        subject=("post", 42),
        data={"outcome": "accepted", "post_id": 42, "topic_id": topic.id, "reason": "spam"},
    )

    await login(client, member)
    page = (await client.get("/notifications")).text
    assert "Asker</a> accepted your answer in Which beans?" in page
    assert "You reached the rank Regular" in page
    assert "A moderator sent you a warning" in page
    assert "Please keep it friendly." in page
    assert "reviewed your flag and took action" in page
    assert moderator.display_name not in page  # notices speak for the team, not a person
    assert await unread_of(database, member) == 4


async def test_rank_name_in_the_members_language(client, database, member_factory, login):
    member = await member_factory(locale="ja")
    await record(
        database,
        verbs.RANK_REACHED,
        actor_id=member.id,
        recipient_id=member.id,
        subject=("rank", 3),
        data={"rank_id": 3, "rank_name_en": "Regular", "rank_name_ja": "常連"},
    )
    await login(client, member)
    page = (await client.get("/notifications")).text
    assert "常連" in page
    assert "Regular" not in page


async def test_an_opened_campaign_tells_its_audience(client, database, member_factory, login):
    from datetime import timedelta

    from app.campaigns import service as campaigns
    from app.campaigns.schemas import CampaignIn
    from app.kit import clock

    operator = await member_factory(role="operator", locale="en")
    fans = [await member_factory(locale="en") for _ in range(3)]
    async with database.transaction() as session:
        now = clock.now()
        campaign = await campaigns.create_campaign(
            session,
            operator,
            CampaignIn(
                title_en="Tasting night",
                title_ja="試飲会",
                starts_at=now,
                ends_at=now + timedelta(days=7),
            ),
        )
        await campaigns.open_campaign(session, campaign, operator)
    for fan in fans:
        rows = await notifications_of(database, fan)
        assert [row.kind for row in rows] == ["campaign"]
    await login(client, fans[0])
    page = (await client.get("/notifications")).text
    assert "A new campaign is open for you: Tasting night" in page
    opened = await client.get(f"/notifications/{rows[0].id}/open")
    assert opened.status_code == 404  # fans[0] cannot open fans[2]'s notification
    mine = await notifications_of(database, fans[0])
    opened = await client.get(f"/notifications/{mine[0].id}/open")
    assert opened.headers["location"] == f"/campaigns/{campaign.id}"


async def test_telling_members_with_avatars_and_their_own_choices_costs_no_extra_statement(
    database, member_factory
):
    """The members told and their choices are read in one statement each, avatars included,
    however many are told and whatever they chose."""
    author = await member_factory(locale="en")
    replier = await member_factory(locale="en")
    plain = [await member_factory(locale="en") for _ in range(2)]
    pictured = [await member_factory(locale="en") for _ in range(2)]
    quiet = await member_factory(locale="en")
    async with database.transaction() as session:
        for member in pictured:
            loaded = await session.get(Member, member.id)
            assert loaded is not None
            await uploads.set_avatar(session, loaded, image_bytes("PNG"))
        await notifications.set_preference(session, quiet.id, kinds.MENTION, kinds.OFF)
    topic = await make_topic(database, author)
    await reply(database, replier, topic)  # the replier's first reply of the day, uncounted

    with counting(database) as without_avatars:
        await reply(database, replier, topic, mentions=[m.id for m in plain])
    with counting(database) as with_avatars:
        await reply(database, replier, topic, mentions=[m.id for m in [*pictured, quiet]])

    assert len(with_avatars) == len(without_avatars)
    for member in [*plain, *pictured]:
        assert [n.kind for n in await notifications_of(database, member)] == ["mention"]
    assert await notifications_of(database, quiet) == []
