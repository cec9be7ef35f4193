"""The dashboard's rollup-based figures against a direct computation from the activity log,
post_likes and topic_views, on a small community: out-of-order (backdated) activities, local
midnight in the community's time zone, staff and a role change, a like taken back, a split
topic and a deleted one. And the rollups the app keeps equal what a full rebuild writes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update

from app.analytics import metrics, policy, queries, rollups, service
from app.config import get_settings
from app.db import Database
from app.forums import service as forums
from app.kit import clock
from app.models import (
    Activity,
    AnalyticsMemberScore,
    Category,
    Member,
    Post,
    PostLike,
    Role,
    Topic,
    TopicView,
)
from app.moderation.split import split_topic
from tests.analytics.community import days_ago, record

ROLLUPS = {
    "analytics_daily": "day, verb, count",
    "analytics_member_daily": "member_id, day, verb, done, received",
    "analytics_touches": "member_id, other_id, last_day",
    "analytics_questions": "topic_id, asker_id, asked_day, answered_day, first_answer_seconds",
    "analytics_active": "day, members, week_ends, month_ends",
    "analytics_active_returns": "day, previous_day, members",
    "analytics_topic_daily": "day, topic_id, likes, views",
}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of the community's calendar (Asia/Tokyo by default), in UTC."""
    zone = ZoneInfo(get_settings().community_timezone)
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


async def _topic(database: Database, author: Member, title: str, replies: int) -> list[int]:
    """A discussion topic with an opening post and ``replies`` replies; returns post ids."""
    async with database.transaction() as session:
        if await session.get(Category, 1) is None:
            session.add(Category(id=1, slug="talk", name_en="Talk", kind="discussion"))
            await session.flush()
        topic = Topic(category_id=1, author_id=author.id, title=title, kind="discussion")
        session.add(topic)
        await session.flush()
        posts = [
            Post(topic_id=topic.id, author_id=author.id, number=n, source="x", cooked="x")
            for n in range(1, replies + 2)
        ]
        session.add_all(posts)
        await session.flush()
        topic.post_count = len(posts)
        return [post.id for post in posts]


async def _at(monkeypatch: Any, moment: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: moment)


async def _like(database: Database, monkeypatch: Any, member: Member, post_id: int, when: datetime):
    await _at(monkeypatch, when)
    async with database.transaction() as session:
        viewer = await session.get(Member, member.id)
        assert viewer is not None
        await forums.like_post(session, viewer, post_id)


async def _unlike(database: Database, monkeypatch: Any, member: Member, post_id: int, when):
    await _at(monkeypatch, when)
    async with database.transaction() as session:
        viewer = await session.get(Member, member.id)
        assert viewer is not None
        await forums.unlike_post(session, viewer, post_id)


async def _visit(database: Database, monkeypatch: Any, topic_id: int, visitor: str, when):
    await _at(monkeypatch, when)
    async with database.transaction() as session:
        await forums.record_visits(session, [forums.Visit(topic_id, visitor, None, 0, clock.now())])


def _rounded(value: float | None) -> float | None:
    """As the API sends floats."""
    return None if value is None else round(value, 4)


async def _direct(database: Database, rng: queries.DateRange) -> dict[str, Any]:
    """What the dashboard must show, computed from the raw tables."""
    prev = rng.previous
    async with database.transaction(write=False) as session:
        population = set(
            (
                await session.execute(
                    select(Member.id).where(Member.role.in_(policy.POPULATION_ROLES))
                )
            ).scalars()
        )
        pairs = {
            (actor_id, day)
            for actor_id, day in (await session.execute(select(Activity.actor_id, Activity.day)))
            if actor_id in population
        }
        likes: Counter[int] = Counter()
        for created_at, topic_id, deleted_at in await session.execute(
            select(PostLike.created_at, Post.topic_id, Topic.deleted_at)
            .join(Post, Post.id == PostLike.post_id)
            .join(Topic, Topic.id == Post.topic_id)
        ):
            if deleted_at is None and rng.start <= clock.community_day(created_at) <= rng.end:
                likes[topic_id] += 1
        views: Counter[int] = Counter()
        for topic_id, day, deleted_at in await session.execute(
            select(TopicView.topic_id, TopicView.day, Topic.deleted_at).join(
                Topic, Topic.id == TopicView.topic_id
            )
        ):
            if deleted_at is None and rng.start <= day <= rng.end:
                views[topic_id] += 1

    def top(counts: Counter[int]) -> list[list[int]]:
        return [[t, n] for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]

    def distinct(r: queries.DateRange) -> int:
        return len({member for member, day in pairs if r.start <= day <= r.end})

    now_active = metrics.active_counts(pairs, rng.start, rng.end)
    then_active = metrics.active_counts(pairs, prev.start, prev.end)
    return {
        "active": [
            [c.day.isoformat(), c.dau, c.wau, c.mau, _rounded(c.stickiness), p.dau, p.mau]
            for c, p in zip(now_active, then_active, strict=True)
        ],
        "figures": {
            "Active members": (distinct(rng), distinct(prev)),
            "Average DAU": (
                sum(c.dau for c in now_active) / len(now_active),
                sum(c.dau for c in then_active) / len(then_active),
            ),
            "DAU/MAU": (now_active[-1].stickiness, then_active[-1].stickiness),
        },
        "top_likes": top(likes),
        "top_views": top(views),
    }


async def _shown(client: Any, rng: queries.DateRange) -> dict[str, Any]:
    """What the operator sees (the dashboard API and the top-content charts)."""
    query = rng.query()
    data = (await client.get(f"/api/v1/ops/dashboard?{query}")).json()
    figures = {f["label"]: (f["current"], f["previous"]) for f in data["figures"]}
    likes = (await client.get(f"/api/v1/ops/charts/top_likes?{query}")).json()
    views = (await client.get(f"/api/v1/ops/charts/top_views?{query}")).json()
    return {
        "active": data["charts"]["active"]["rows"],
        "figures": {name: figures[name] for name in ("Active members", "Average DAU", "DAU/MAU")},
        "top_likes": [[row[0], row[2]] for row in likes["rows"]],
        "top_views": [[row[0], row[2]] for row in views["rows"]],
    }


async def _rollups(database: Database) -> dict[str, list[tuple[str, ...]]]:
    async with database.transaction(write=False) as session:
        result = {}
        for table, columns in ROLLUPS.items():
            rows = (await session.execute(text(f"SELECT {columns} FROM {table}"))).all()
            # A count back at zero (a like taken back) is the same as no row.
            result[table] = sorted(
                tuple(str(value) for value in row)
                for row in rows
                if not (table == "analytics_topic_daily" and row[2] == 0 and row[3] == 0)
            )
        return result


async def test_rollup_figures_equal_the_activity_log(
    client, member_factory, login, database, monkeypatch
):
    today = clock.community_day()
    real_now = clock.now
    a, b, c, d, e = [await member_factory(name=n) for n in "ABCDE"]
    staff = await member_factory(name="Staff", role=Role.operator)
    # Activities arrive out of order (imports, backdated records); some sit on either side of
    # local midnight, which is 15:00 UTC the day before in Tokyo.
    visits = [
        (a, today - timedelta(days=3), 12, 0),
        (a, today - timedelta(days=40), 9, 0),
        (b, today - timedelta(days=6), 23, 59),
        (b, today - timedelta(days=5), 0, 0),
        (a, today - timedelta(days=10), 8, 0),
        (c, today - timedelta(days=45), 10, 0),
        (d, today - timedelta(days=29), 0, 1),
        (d, today - timedelta(days=31), 23, 58),
        (staff, today - timedelta(days=2), 10, 0),
        (staff, today - timedelta(days=33), 10, 0),
        (e, today - timedelta(days=7), 13, 0),
        (c, today - timedelta(days=1), 23, 59),
        (e, today - timedelta(days=500), 12, 0),
        (e, today - timedelta(days=8), 13, 0),
    ]
    for member, day, hour, minute in visits:
        when = local(day, hour, minute)
        await record(database, "post.created", member, when, subject=("post", 999))
    # c becomes a moderator: their whole history leaves the member-only figures.
    async with database.transaction() as session:
        await session.execute(
            update(Member).where(Member.id == c.id).values(role=Role.moderator.value)
        )

    # Likes and visits go through the forum itself, at chosen moments.
    first = await _topic(database, a, "First", replies=2)
    second = await _topic(database, b, "Second", replies=1)
    gone = await _topic(database, a, "Gone", replies=1)
    await _like(database, monkeypatch, b, first[1], local(today - timedelta(days=2), 23, 59))
    await _like(database, monkeypatch, d, first[1], local(today - timedelta(days=1), 0, 0))
    await _like(database, monkeypatch, e, first[2], local(today - timedelta(days=20), 12))
    await _like(database, monkeypatch, d, second[1], local(today - timedelta(days=3), 12))
    await _like(database, monkeypatch, e, second[0], local(today - timedelta(days=35), 12))
    await _like(database, monkeypatch, b, gone[1], local(today - timedelta(days=1), 12))
    # Taken back two days later: the like leaves the day it was given.
    await _like(database, monkeypatch, e, second[1], local(today - timedelta(days=4), 12))
    await _unlike(database, monkeypatch, e, second[1], local(today - timedelta(days=2), 12))
    for visitor, topic_id_post, day, hour in (
        ("m:1", first[0], 3, 12),
        ("m:2", first[0], 3, 23),
        ("m:2", first[0], 2, 0),
        ("a:x", second[0], 1, 12),
        ("m:1", gone[0], 1, 12),
    ):
        async with database.transaction() as session:
            topic_id = (
                await session.execute(select(Post.topic_id).where(Post.id == topic_id_post))
            ).scalar_one()
        await _visit(
            database, monkeypatch, topic_id, visitor, local(today - timedelta(days=day), hour)
        )
    monkeypatch.setattr(clock, "now", real_now)
    async with database.transaction() as session:
        topic_ids = dict((await session.execute(select(Post.id, Post.topic_id))).all())
        # A moderator moves the second reply of "First" (two likes) into a topic of its own,
        # and "Gone" is deleted.
        moderator = await session.get(Member, staff.id)
        topic = await session.get(Topic, topic_ids[first[0]])
        assert moderator is not None
        assert topic is not None
        await split_topic(session, moderator, topic, [first[2]], "Split off", None, "tidy")
        await session.execute(
            update(Topic).where(Topic.id == topic_ids[gone[0]]).values(deleted_at=clock.now())
        )

    await login(client, await member_factory(role=Role.operator))
    for rng in (
        queries.parse_range(None, None),
        queries.DateRange(today - timedelta(days=6), today - timedelta(days=3)),
        queries.DateRange(today - timedelta(days=365), today),
        queries.DateRange(today - timedelta(days=40), today + timedelta(days=10)),
    ):
        expected, shown = await _direct(database, rng), await _shown(client, rng)
        assert shown == expected, rng
    # Not a trivial scenario: four members in the window, likes on three topics.
    default = await _direct(database, queries.parse_range(None, None))
    assert default["figures"]["Active members"][0] == 4
    assert len(default["top_likes"]) == 3

    # A full rebuild from the log writes exactly what the app kept along the way.
    kept = await _rollups(database)
    async with database.transaction() as session:
        await rollups.rebuild(session)
    assert await _rollups(database) == kept


async def test_deciles_of_a_large_community_follow_the_population_boundaries(
    member_factory, database, monkeypatch
):
    """Above EXACT_DECILES_UP_TO members an activity places its members against the decile
    boundaries of everybody instead of counting ranks: the same deciles as a full ranking."""
    members = [await member_factory(name=f"M{i}") for i in range(23)]
    for i, member in enumerate(members):
        for age in range(i % 7):
            await record(
                database, "post.created", member, days_ago(age), subject=("post", i * 10 + age)
            )
    staff = await member_factory(name="Staff", role=Role.admin)
    await record(database, "post.created", staff, days_ago(0), subject=("post", 999))
    async with database.transaction(write=False) as session:
        heats = dict(
            (
                await session.execute(
                    select(AnalyticsMemberScore.member_id, AnalyticsMemberScore.heat_base)
                )
            ).all()
        )
        exact = [await service._decile(session, m.id, heats[m.id]) for m in members]
        monkeypatch.setattr(service, "EXACT_DECILES_UP_TO", 5)
        service._decile_bounds.clear()
        bounded = [await service._decile(session, m.id, heats[m.id]) for m in members]
    service._decile_bounds.clear()
    ranking = metrics.deciles({m.id: heats[m.id] for m in members})
    assert exact == [ranking[m.id] for m in members]
    assert bounded == exact
    assert sorted(set(exact)) == list(range(1, 11))
