"""Daily rollups, kept as activities are recorded (same transaction, atomic upserts).

For every activity: the community's count for (day, verb) goes up by one; so does the actor's
``done`` and the recipient's ``received`` for (member, day, verb). Interactions between two
members refresh their "touch" (reach), questions remember when they were first answered, and
the members' scores follow (:mod:`app.analytics.service`). Nothing here reads the activity log;
:func:`rebuild` replays it once, for a database that had activities before analytics existed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.activity import verbs
from app.activity.service import subscribe
from app.analytics import active, community
from app.kit import clock
from app.kit.sql import insert, run_prebuilt
from app.models import (
    Activity,
    AnalyticsDaily,
    AnalyticsMemberDaily,
    AnalyticsQuestion,
    AnalyticsTopicDaily,
    AnalyticsTouch,
    PostLike,
    Topic,
)

# Verbs where the recipient was touched by the actor (likes and replies received, answers
# accepted), and verbs where the actor touched the recipient (they answered their question).
TOUCHED_BY_ACTOR = frozenset(
    {verbs.LIKE_GIVEN, verbs.POST_CREATED, verbs.ANSWER_CREATED, verbs.ANSWER_ACCEPTED}
)
TOUCHES_RECIPIENT = frozenset({verbs.ANSWER_CREATED})


def count_community(session: AsyncSession, day: date, verb: str, amount: int = 1) -> None:
    """Add to the community's count of ``verb`` on ``day`` (written at commit, with the other
    community-wide rows: :mod:`app.analytics.community`)."""
    community.tally(session).daily[(day, verb)] += amount


async def count_member(
    session: AsyncSession, member_id: int, day: date, verb: str, *, done: int, received: int
) -> int:
    """Add to the member's counts of the day; returns their ``done`` count after it."""
    return (await count_members(session, day, verb, [(member_id, done, received)]))[member_id]


def _member_daily_upsert(rows: int) -> Callable[[Any], Any]:
    """Several members' counts of one day and verb in one statement (``rows`` of them), each
    row's parameters numbered: the statement is the same for any members, so it is built and
    compiled once per number of rows."""

    def build(insert_: Any) -> Any:
        table = AnalyticsMemberDaily.__table__
        stmt = insert_(table).values(
            [
                {
                    "member_id": bindparam(f"p_member_{row}"),
                    "day": bindparam("p_day"),
                    "verb": bindparam("p_verb"),
                    "done": bindparam(f"p_done_{row}"),
                    "received": bindparam(f"p_received_{row}"),
                }
                for row in range(rows)
            ]
        )
        return stmt.on_conflict_do_update(
            index_elements=[table.c.member_id, table.c.day, table.c.verb],
            set_={
                "done": table.c.done + stmt.excluded.done,
                "received": table.c.received + stmt.excluded.received,
            },
        ).returning(table.c.member_id, table.c.done)

    return build


_MEMBER_DAILY: dict[int, Callable[[Any], Any]] = {}


async def count_members(
    session: AsyncSession, day: date, verb: str, changes: list[tuple[int, int, int]]
) -> dict[int, int]:
    """Add (member, done, received) to each member's counts of the day, in one statement and
    in member order (the lock order); returns each member's ``done`` count after it (the
    members must be distinct)."""
    if not changes:
        return {}
    rows = len(changes)
    build = _MEMBER_DAILY.get(rows)
    if build is None:
        build = _MEMBER_DAILY[rows] = _member_daily_upsert(rows)
    params: dict[str, Any] = {"p_day": day, "p_verb": verb}
    for row, (member_id, done, received) in enumerate(sorted(changes)):
        params.update(
            {f"p_member_{row}": member_id, f"p_done_{row}": done, f"p_received_{row}": received}
        )
    result = await run_prebuilt(session, ("rollups.member_daily", rows), build, params)
    return {int(member_id): int(done) for member_id, done in result}


def _touch_upsert(insert_: Any) -> Any:
    stmt = insert_(AnalyticsTouch.__table__).values(
        member_id=bindparam("p_member"), other_id=bindparam("p_other"), last_day=bindparam("p_day")
    )
    return stmt.on_conflict_do_update(
        index_elements=[AnalyticsTouch.member_id, AnalyticsTouch.other_id],
        set_={
            "last_day": case(
                (AnalyticsTouch.last_day < stmt.excluded.last_day, stmt.excluded.last_day),
                else_=AnalyticsTouch.last_day,
            )
        },
    )


async def touch(session: AsyncSession, member_id: int, other_id: int, day: date) -> None:
    await run_prebuilt(
        session,
        "rollups.touch",
        _touch_upsert,
        {"p_member": member_id, "p_other": other_id, "p_day": day},
    )


async def _question_asked(session: AsyncSession, activity: Activity) -> None:
    if activity.subject_id is None:
        return
    stmt = insert(session, AnalyticsQuestion).values(
        topic_id=activity.subject_id,
        asker_id=activity.actor_id,
        asked_at=activity.occurred_at,
        asked_day=activity.day,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[AnalyticsQuestion.topic_id]))


async def _question_answered(session: AsyncSession, activity: Activity) -> None:
    topic_id = (activity.data or {}).get("topic_id")
    if not isinstance(topic_id, int):
        return
    question = await session.get(AnalyticsQuestion, topic_id)
    if question is None:
        # Asked before analytics existed: learn when from the topic itself.
        row = (
            await session.execute(
                select(Topic.author_id, Topic.created_at).where(Topic.id == topic_id)
            )
        ).one_or_none()
        if row is None:
            return
        question = AnalyticsQuestion(
            topic_id=topic_id,
            asker_id=row.author_id,
            asked_at=row.created_at,
            asked_day=clock.community_day(row.created_at),
        )
        session.add(question)
    if question.answered_at is not None or activity.actor_id == question.asker_id:
        return
    question.answered_at = activity.occurred_at
    question.answered_day = activity.day
    question.first_answer_seconds = max(
        0, int((activity.occurred_at - question.asked_at).total_seconds())
    )
    await session.flush()


def _topic_daily_upsert(insert_: Any) -> Any:
    stmt = insert_(AnalyticsTopicDaily.__table__).values(
        day=bindparam("p_day"),
        topic_id=bindparam("p_topic"),
        likes=bindparam("p_likes"),
        views=bindparam("p_views"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[AnalyticsTopicDaily.day, AnalyticsTopicDaily.topic_id],
        set_={
            "likes": AnalyticsTopicDaily.likes + stmt.excluded.likes,
            "views": AnalyticsTopicDaily.views + stmt.excluded.views,
        },
    )


async def count_topic(
    session: AsyncSession, day: date, topic_id: int, *, likes: int = 0, views: int = 0
) -> None:
    """Add to a topic's likes and new visitors of a day (app.forums.service writes a batch of
    views with one call per topic and day)."""
    await run_prebuilt(
        session,
        "rollups.topic_daily",
        _topic_daily_upsert,
        {"p_day": day, "p_topic": topic_id, "p_likes": likes, "p_views": views},
    )


def _liked_post(activity: Activity) -> tuple[int, int] | None:
    topic_id = (activity.data or {}).get("topic_id")
    if activity.subject_type != "post" or activity.subject_id is None:
        return None
    if not isinstance(topic_id, int) or activity.actor_id is None:
        return None
    return activity.subject_id, topic_id


async def _like_given(session: AsyncSession, activity: Activity) -> None:
    liked = _liked_post(activity)
    if liked is None:
        return
    post_id, topic_id = liked
    await run_prebuilt(
        session,
        "rollups.like_given",
        _like_given_upsert,
        {
            "p_day": activity.day,
            "p_topic": topic_id,
            "p_post": post_id,
            "p_member": activity.actor_id,
        },
    )


def _like_given_upsert(insert_: Any) -> Any:
    # Only likes that exist count (as the post_likes table has them): one INSERT ... SELECT
    # whose row is there only if the like is.
    standing = exists().where(
        PostLike.post_id == bindparam("p_post", type_=Integer),
        PostLike.member_id == bindparam("p_member", type_=Integer),
    )
    source = select(
        bindparam("p_day", type_=Date).label("day"),
        bindparam("p_topic", type_=Integer).label("topic_id"),
        literal(1, Integer).label("likes"),
        literal(0, Integer).label("views"),
    ).where(standing)
    stmt = insert_(AnalyticsTopicDaily.__table__).from_select(
        ["day", "topic_id", "likes", "views"], source
    )
    return stmt.on_conflict_do_update(
        index_elements=[AnalyticsTopicDaily.day, AnalyticsTopicDaily.topic_id],
        set_={"likes": AnalyticsTopicDaily.likes + 1},
    )


async def _like_undone(session: AsyncSession, activity: Activity) -> None:
    """The like leaves the day it was given (the day of the latest like.given it undoes)."""
    liked = _liked_post(activity)
    if liked is None:
        return
    post_id, topic_id = liked
    given_day = await session.scalar(
        select(Activity.day)
        .where(
            Activity.subject_type == "post",
            Activity.subject_id == post_id,
            Activity.verb == verbs.LIKE_GIVEN,
            Activity.actor_id == activity.actor_id,
            Activity.id < activity.id,
        )
        .order_by(Activity.id.desc())
        .limit(1)
    )
    if given_day is not None:
        await count_topic(session, given_day, topic_id, likes=-1)


async def move_likes(
    session: AsyncSession, post_ids: list[int], from_topic_id: int, to_topic_id: int
) -> None:
    """Posts moved to another topic (a split): their likes' days move with them."""
    if not post_ids or from_topic_id == to_topic_id:
        return
    standing = set(
        (
            await session.execute(
                select(PostLike.post_id, PostLike.member_id).where(PostLike.post_id.in_(post_ids))
            )
        ).all()
    )
    if not standing:
        return
    latest: dict[tuple[Any, Any], date] = {}
    for post_id, member_id, day in (
        await session.execute(
            select(Activity.subject_id, Activity.actor_id, Activity.day)
            .where(
                Activity.subject_type == "post",
                Activity.subject_id.in_(post_ids),
                Activity.verb == verbs.LIKE_GIVEN,
            )
            .order_by(Activity.id)
        )
    ).all():
        latest[(post_id, member_id)] = day
    per_day = Counter(day for key, day in latest.items() if key in standing)
    for day, n in sorted(per_day.items()):
        await count_topic(session, day, from_topic_id, likes=-n)
        await count_topic(session, day, to_topic_id, likes=n)


async def apply(session: AsyncSession, activity: Activity) -> None:
    """Add one activity to the rollups (no scores)."""
    day = activity.day
    actor, recipient = activity.actor_id, activity.recipient_id
    if recipient == actor:
        recipient = None
    count_community(session, day, activity.verb)
    changes = [(member, 1, 0) for member in (actor,) if member is not None]
    changes += [(member, 0, 1) for member in (recipient,) if member is not None]
    if changes:
        counted = await count_members(session, day, activity.verb, changes)
        if actor is not None and counted[actor] == 1:
            await active.mark_active(session, actor, day, activity.verb)
    if actor is not None and recipient is not None:
        if activity.verb in TOUCHED_BY_ACTOR:
            await touch(session, recipient, actor, day)
        if activity.verb in TOUCHES_RECIPIENT:
            await touch(session, actor, recipient, day)
    if activity.verb == verbs.TOPIC_CREATED and (activity.data or {}).get("kind") == "question":
        await _question_asked(session, activity)
    elif activity.verb == verbs.ANSWER_CREATED:
        await _question_answered(session, activity)
    elif activity.verb == verbs.LIKE_GIVEN:
        await _like_given(session, activity)
    elif activity.verb == verbs.LIKE_UNDONE:
        await _like_undone(session, activity)


async def on_activity(session: AsyncSession, activity: Activity) -> None:
    from app.analytics import service

    await apply(session, activity)
    await service.follow_activity(session, activity)


def install() -> None:
    subscribe(on_activity)


# Likes still standing, on the day of the like.given they come from (the latest one of that
# member on that post), under the post's current topic; and each topic's visitors per day.
TOPIC_REBUILD = (
    "WITH given AS (SELECT subject_id AS post_id, actor_id AS member_id, day, "
    "ROW_NUMBER() OVER (PARTITION BY subject_id, actor_id ORDER BY id DESC) AS latest "
    f"FROM activities WHERE verb = '{verbs.LIKE_GIVEN}' AND subject_type = 'post' "
    "AND actor_id IS NOT NULL) "
    "INSERT INTO analytics_topic_daily (day, topic_id, likes, views) "
    "SELECT day, topic_id, SUM(likes), SUM(views) FROM ("
    "SELECT given.day AS day, posts.topic_id AS topic_id, 1 AS likes, 0 AS views "
    "FROM given JOIN post_likes ON post_likes.post_id = given.post_id "
    "AND post_likes.member_id = given.member_id "
    "JOIN posts ON posts.id = given.post_id WHERE given.latest = 1 "
    "UNION ALL SELECT day, topic_id, 0, 1 FROM topic_views"
    ") AS content GROUP BY day, topic_id"
)


def _rebuild_statements() -> list[str]:
    """Each rollup from the activity log in one ``INSERT ... SELECT ... GROUP BY`` (the same
    aggregation as :func:`apply`, and as ``kizuna bench-data`` writes)."""
    touched = ", ".join(f"'{verb}'" for verb in sorted(TOUCHED_BY_ACTOR))
    touching = ", ".join(f"'{verb}'" for verb in sorted(TOUCHES_RECIPIENT))
    return [
        "INSERT INTO analytics_daily (day, verb, count) "
        "SELECT day, verb, COUNT(*) FROM activities GROUP BY day, verb",
        "INSERT INTO analytics_member_daily (member_id, day, verb, done, received) "
        "SELECT member_id, day, verb, SUM(done), SUM(received) FROM ("
        "SELECT actor_id AS member_id, day, verb, 1 AS done, 0 AS received FROM activities "
        "WHERE actor_id IS NOT NULL "
        "UNION ALL SELECT recipient_id, day, verb, 0, 1 FROM activities "
        "WHERE recipient_id IS NOT NULL AND (actor_id IS NULL OR recipient_id <> actor_id)"
        ") AS counted GROUP BY member_id, day, verb",
        "INSERT INTO analytics_touches (member_id, other_id, last_day) "
        "SELECT member_id, other_id, MAX(day) FROM ("
        "SELECT recipient_id AS member_id, actor_id AS other_id, day FROM activities "
        f"WHERE verb IN ({touched}) AND actor_id IS NOT NULL AND recipient_id IS NOT NULL "
        "AND actor_id <> recipient_id "
        "UNION ALL SELECT actor_id, recipient_id, day FROM activities "
        f"WHERE verb IN ({touching}) AND actor_id IS NOT NULL AND recipient_id IS NOT NULL "
        "AND actor_id <> recipient_id"
        ") AS touched GROUP BY member_id, other_id",
        TOPIC_REBUILD,
    ]


QuestionEvent = tuple[str, int, int | None, Any, date]  # verb, topic, actor, at, day


def _replay_questions(
    events: list[QuestionEvent], topics: dict[int, tuple[int | None, Any]]
) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """Questions after the events (as :func:`_question_asked` and :func:`_question_answered`
    keep them), and the topics answered before their question was known (not in ``topics``)."""
    questions: dict[int, dict[str, Any]] = {}
    missing: set[int] = set()
    for verb, topic_id, actor_id, moment, day in events:
        question = questions.get(topic_id)
        if verb == verbs.TOPIC_CREATED:
            if question is None:
                questions[topic_id] = {"asker_id": actor_id, "asked_at": moment, "asked_day": day}
            continue
        if question is None:
            if topic_id not in topics:
                missing.add(topic_id)
                continue
            author_id, created_at = topics[topic_id]
            question = questions[topic_id] = {
                "asker_id": author_id,
                "asked_at": created_at,
                "asked_day": clock.community_day(created_at),
            }
        if question.get("answered_at") is not None or actor_id == question["asker_id"]:
            continue
        question["answered_at"] = moment
        question["answered_day"] = day
        question["first_answer_seconds"] = max(
            0, int((moment - question["asked_at"]).total_seconds())
        )
    return questions, missing


async def _rebuild_questions(session: AsyncSession) -> None:
    events: list[QuestionEvent] = []
    rows = await session.stream(
        select(
            Activity.verb,
            Activity.actor_id,
            Activity.subject_id,
            Activity.occurred_at,
            Activity.day,
            Activity.data,
        )
        .where(Activity.verb.in_((verbs.TOPIC_CREATED, verbs.ANSWER_CREATED)))
        .order_by(Activity.id)
    )
    async for verb, actor_id, subject_id, occurred_at, day, data in rows:
        data = data or {}
        if verb == verbs.TOPIC_CREATED:
            if data.get("kind") == "question" and subject_id is not None:
                events.append((verb, subject_id, actor_id, occurred_at, day))
        elif isinstance(data.get("topic_id"), int):
            events.append((verb, data["topic_id"], actor_id, occurred_at, day))
    topics: dict[int, tuple[int | None, Any]] = {}
    _questions, missing = _replay_questions(events, topics)
    unknown = sorted(missing)
    for start in range(0, len(unknown), 500):
        for topic_id, author_id, created_at in (
            await session.execute(
                select(Topic.id, Topic.author_id, Topic.created_at).where(
                    Topic.id.in_(unknown[start : start + 500])
                )
            )
        ).all():
            topics[topic_id] = (author_id, created_at)
    questions, _missing = _replay_questions(events, topics)
    values = [
        {
            "topic_id": topic_id,
            "asker_id": q["asker_id"],
            "asked_at": q["asked_at"],
            "asked_day": q["asked_day"],
            "answered_at": q.get("answered_at"),
            "answered_day": q.get("answered_day"),
            "first_answer_seconds": q.get("first_answer_seconds"),
        }
        for topic_id, q in questions.items()
    ]
    for start in range(0, len(values), 1000):
        await session.execute(insert(session, AnalyticsQuestion), values[start : start + 1000])


# The rollups :func:`rebuild` empties and refills (besides app.analytics.active's own).
REBUILT = (
    AnalyticsDaily,
    AnalyticsMemberDaily,
    AnalyticsTouch,
    AnalyticsQuestion,
    AnalyticsTopicDaily,
)


async def rebuild(session: AsyncSession) -> int:
    """Empty the rollups and refill them from the whole activity log; returns how many
    activities the log holds."""
    for table in REBUILT:
        await session.execute(delete(table))
    for statement in _rebuild_statements():
        await session.execute(text(statement))
    await _rebuild_questions(session)
    await active.rebuild(session)
    return int(await session.scalar(select(func.count()).select_from(Activity)) or 0)
