from __future__ import annotations

from app.activity import verbs
from app.models import PointLedgerEntry
from tests.points.conftest import act, ledger_count, ledger_sum, totals


async def test_sign_up_pays_the_welcome_bonus_once(member_factory, database):
    fan = await member_factory(locale="en")
    assert await totals(database, fan) == (10, 10)
    await act(database, verbs.SIGNED_UP, fan, dedupe_key=f"signup:{fan.id}")
    assert await totals(database, fan) == (10, 10)


async def test_like_pays_the_author_and_unlike_takes_it_back(member_factory, database):
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    post = ("post", 501)
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=post)
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=post)
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 1
    assert await ledger_sum(database, fan, verbs.LIKE_GIVEN) == 0

    await act(database, verbs.LIKE_UNDONE, fan, author, subject=post)
    await act(database, verbs.LIKE_UNDONE, fan, author, subject=post)
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 0
    assert await ledger_count(database, PointLedgerEntry.reversal.is_(True)) == 1

    # Liking again after an undo pays again (the like exists again), exactly once.
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=post)
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=post)
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 1
    assert await totals(database, author) == (11, 11)


async def test_daily_cap_limits_likes_received_per_day(member_factory, database, client, login):
    admin = await member_factory(role="admin", locale="en")
    await login(client, admin)
    changed = await client.send_json(
        "PUT",
        "/api/v1/points/rules/like.given",
        {"recipient_points": 2, "daily_cap": 5},
    )
    assert changed.status_code == 200, changed.text
    author = await member_factory(locale="en")
    fans = [await member_factory(locale="en") for _ in range(4)]
    for number, fan in enumerate(fans):
        await act(database, verbs.LIKE_GIVEN, fan, author, subject=("post", 900 + number))
    # 2 + 2 + 1 (the cap's remainder) + 0
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 5
    assert await ledger_count(database, PointLedgerEntry.member_id == author.id) == 4


async def test_default_like_cap_is_fifty_a_day(member_factory, database):
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    for post_id in range(1, 53):
        await act(database, verbs.LIKE_GIVEN, fan, author, subject=("post", post_id))
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 50


async def test_no_points_for_acting_on_ones_own_content(member_factory, database):
    fan = await member_factory(locale="en")
    await act(database, verbs.LIKE_GIVEN, fan, fan, subject=("post", 7))
    await act(database, verbs.ANSWER_ACCEPTED, fan, fan, subject=("post", 7))
    await act(database, verbs.VOTE_CAST, fan, fan, subject=("post", 7), data={"value": 1})
    assert await totals(database, fan) == (10, 10)
    assert await ledger_count(database, PointLedgerEntry.member_id == fan.id) == 1


async def test_silenced_or_suspended_members_earn_nothing(member_factory, database):
    from datetime import timedelta
    from types import SimpleNamespace

    from app.kit import clock
    from app.models import Member
    from app.points.policy import is_restricted

    later = clock.now() + timedelta(days=1)
    assert is_restricted(SimpleNamespace(silenced_until=later))
    assert is_restricted(SimpleNamespace(suspended_until=later))
    assert not is_restricted(SimpleNamespace(silenced_until=clock.now() - timedelta(days=1)))
    assert not is_restricted(SimpleNamespace())
    if not hasattr(Member, "silenced_until"):
        return  # the moderation columns have not landed; the policy above still holds
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    async with database.transaction() as session:
        row = await session.get(Member, author.id)
        assert row is not None
        row.silenced_until = later
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=("post", 3))
    assert await ledger_sum(database, author, verbs.LIKE_GIVEN) == 0


async def test_rule_change_applies_from_then_on_and_keeps_history(
    member_factory, database, client, login
):
    admin = await member_factory(role="admin", locale="en")
    writer = await member_factory(locale="en")
    await act(database, verbs.TOPIC_CREATED, writer, subject=("topic", 1))
    await login(client, admin)
    page = await client.get("/admin/points")
    assert page.status_code == 200
    assert "Starting a topic" in page.text
    saved = await client.submit(
        "/admin/points/rules",
        {"verb": "topic.created", "actor_points": "8", "recipient_points": "0", "enabled": "on"},
    )
    assert saved.status_code == 303
    await act(database, verbs.TOPIC_CREATED, writer, subject=("topic", 2))
    async with database.transaction(write=False) as session:
        from sqlalchemy import select

        paid = (
            (
                await session.execute(
                    select(PointLedgerEntry.lifetime_delta)
                    .where(
                        PointLedgerEntry.member_id == writer.id,
                        PointLedgerEntry.kind == verbs.TOPIC_CREATED,
                    )
                    .order_by(PointLedgerEntry.id)
                )
            )
            .scalars()
            .all()
        )
    assert list(paid) == [5, 8]
    assert await totals(database, writer) == (23, 23)

    # Switched off: nothing more is paid.
    await client.submit(
        "/admin/points/rules",
        {"verb": "topic.created", "actor_points": "8", "recipient_points": "0"},
    )
    await act(database, verbs.TOPIC_CREATED, writer, subject=("topic", 3))
    assert await totals(database, writer) == (23, 23)


async def test_bad_rule_input_is_refused_clearly(member_factory, client, login):
    admin = await member_factory(role="admin", locale="en")
    await login(client, admin)
    page = await client.submit(
        "/admin/points/rules",
        {"verb": "topic.created", "actor_points": "-3", "recipient_points": "x"},
    )
    assert page.status_code == 422
    assert "Must be at least 0." in page.text
    assert "Enter a whole number." in page.text
    api = await client.send_json("PUT", "/api/v1/points/rules/like.undone", {"actor_points": 1})
    assert api.status_code == 422
    assert api.json()["error"]["field"] == "verb"
    member = await member_factory(locale="en")
    await login(client, member)
    denied = await client.send_json("PUT", "/api/v1/points/rules/topic.created", {})
    assert denied.status_code == 403


async def test_accepting_an_answer_pays_both_and_unaccepting_reverses(member_factory, database):
    asker = await member_factory(locale="en")
    answerer = await member_factory(locale="en")
    moderator = await member_factory(role="moderator", locale="en")
    answer = ("post", 77)
    await act(database, verbs.ANSWER_ACCEPTED, asker, answerer, subject=answer)
    assert await ledger_sum(database, answerer, verbs.ANSWER_ACCEPTED) == 15
    assert await ledger_sum(database, asker, verbs.ANSWER_ACCEPTED) == 2
    await act(database, verbs.ANSWER_UNACCEPTED, moderator, answerer, subject=answer)
    assert await ledger_sum(database, answerer, verbs.ANSWER_ACCEPTED) == 0
    assert await ledger_sum(database, asker, verbs.ANSWER_ACCEPTED) == 0
    assert await ledger_sum(database, moderator) == 10


async def test_up_votes_pay_and_taking_them_back_reverses(member_factory, database):
    voter = await member_factory(locale="en")
    answerer = await member_factory(locale="en")
    answer = ("post", 5)
    await act(
        database, verbs.VOTE_CAST, voter, answerer, subject=answer, data={"value": 1, "previous": 0}
    )
    assert await ledger_sum(database, answerer, verbs.VOTE_CAST) == 5
    await act(
        database,
        verbs.VOTE_CAST,
        voter,
        answerer,
        subject=answer,
        data={"value": -1, "previous": 1},
    )
    assert await ledger_sum(database, answerer, verbs.VOTE_CAST) == 0
    await act(
        database,
        verbs.VOTE_CAST,
        voter,
        answerer,
        subject=answer,
        data={"value": 0, "previous": -1},
    )
    assert await ledger_sum(database, answerer, verbs.VOTE_CAST) == 0
    await act(
        database, verbs.VOTE_CAST, voter, answerer, subject=answer, data={"value": 1, "previous": 0}
    )
    assert await ledger_sum(database, answerer, verbs.VOTE_CAST) == 5


async def test_removing_a_post_takes_back_what_it_earned_and_restoring_repays(
    member_factory, database
):
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    moderator = await member_factory(role="moderator", locale="en")
    post = ("post", 42)
    await act(database, verbs.POST_CREATED, author, subject=post)
    await act(database, verbs.LIKE_GIVEN, fan, author, subject=post)
    assert await totals(database, author) == (13, 13)

    await act(
        database, verbs.POST_REMOVED, moderator, author, subject=post, data={"by_staff": True}
    )
    assert await totals(database, author) == (10, 10)
    await act(
        database, verbs.POST_REMOVED, moderator, author, subject=post, data={"by_staff": True}
    )
    assert await totals(database, author) == (10, 10)

    await act(database, verbs.POST_RESTORED, moderator, author, subject=post)
    assert await totals(database, author) == (13, 13)
    await act(database, verbs.POST_RESTORED, moderator, author, subject=post)
    assert await totals(database, author) == (13, 13)
    # History is appended, never rewritten: 2 awards, 2 reversals, 2 re-awards.
    assert await ledger_count(database, PointLedgerEntry.subject_id == 42) == 6


async def test_completing_the_profile_pays_once(member_factory, database, client, login):
    fan = await member_factory(locale="en")
    await login(client, fan)
    await client.get("/")  # today's visit: +1
    for bio in ("I love this brand.", "Still loving it."):
        saved = await client.submit(
            "/settings", {"display_name": fan.display_name, "handle": fan.handle, "bio": bio}
        )
        assert saved.status_code == 303
    assert await ledger_sum(database, fan, verbs.PROFILE_COMPLETED) == 10
    assert await totals(database, fan) == (21, 21)
