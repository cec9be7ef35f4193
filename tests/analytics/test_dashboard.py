"""Dashboard, retention and scores read through the API and pages, on a fixed community."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import literal_column, select

from app.analytics.active import period_of
from app.kit import clock
from app.models import Role
from tests.analytics.community import at, days_ago, make_question, record, set_joined
from tests.statements import recording


def _rows(payload):
    return {row[0]: dict(zip(payload["columns"], row, strict=True)) for row in payload["rows"]}


async def test_active_members_churn_and_cohorts(client, member_factory, login, database):
    a, b, c = [await member_factory(name=n) for n in ("A", "B", "C")]
    # Staff are not part of the community's figures, however active.
    staff = await member_factory(name="Mod", role=Role.moderator)
    for member, day in (
        (a, "2025-03-01"),
        (a, "2025-03-02"),
        (b, "2025-03-02"),
        (c, "2025-02-10"),
        (a, "2025-03-10"),
        (a, "2025-04-02"),
        (staff, "2025-02-11"),
        (staff, "2025-03-04"),
        (staff, "2025-04-05"),
    ):
        await record(database, "member.visited", member, at(date.fromisoformat(day)))
    await set_joined(database, a, at(date(2025, 2, 5)))
    await set_joined(database, c, at(date(2025, 2, 20)))
    await set_joined(database, b, at(date(2025, 3, 3)))
    await set_joined(database, staff, at(date(2025, 2, 6)))
    await login(client, await member_factory(role=Role.operator))

    active = (await client.get("/api/v1/ops/charts/active?start=2025-03-01&end=2025-03-12")).json()
    rows = _rows(active)
    assert rows["2025-03-02"]["dau"] == 2
    assert rows["2025-03-08"]["wau"] == 2
    assert rows["2025-03-09"]["wau"] == 0
    assert rows["2025-03-10"]["mau"] == 3
    assert rows["2025-03-12"]["mau"] == 2
    # The previous period (Feb 17 - Feb 28) had C's visit inside its month windows.
    assert rows["2025-03-01"]["previous_mau"] == 1

    churn = _rows(
        (await client.get("/api/v1/ops/charts/churn?start=2025-02-01&end=2025-04-30")).json()
    )
    assert churn["2025-02-01"]["churn_percent"] == 100.0
    assert churn["2025-03-01"]["not_active_next_month"] == 1
    assert churn["2025-03-01"]["churn_percent"] == 50.0
    assert [row["active"] for row in churn.values()] == [1, 2]
    # A range starting mid-month counts from the first of that month.
    later = _rows(
        (await client.get("/api/v1/ops/charts/churn?start=2025-03-15&end=2025-04-30")).json()
    )
    assert later == {"2025-03-01": churn["2025-03-01"]}

    cohorts = (
        await client.get("/api/v1/ops/charts/cohorts?start=2025-02-01&end=2025-04-30&unit=month")
    ).json()
    assert cohorts["rows"][0] == ["2025-02-01", 2, 50.0, 50.0, 50.0]
    assert cohorts["rows"][1] == ["2025-03-01", 1, 100.0, 0.0, None]

    page = await client.get("/ops/retention?start=2025-02-01&end=2025-04-30&unit=week")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "style=" not in page.text


async def test_questions_median_first_answer_and_content_counts(
    client, member_factory, login, database
):
    asker, helper, other = [await member_factory(name=n) for n in ("Asker", "Helper", "Other")]
    day = date(2025, 5, 1)
    q1 = await make_question(database, asker, at(day, 1))
    await record(
        database,
        "answer.created",
        helper,
        at(day, 3),
        recipient_id=asker.id,
        subject=("post", 1),
        data={"topic_id": q1},
    )
    await record(
        database,
        "answer.created",
        other,
        at(day, 9),
        recipient_id=asker.id,
        subject=("post", 2),
        data={"topic_id": q1},
    )
    q2 = await make_question(database, asker, at(day + timedelta(days=1), 0))
    # The asker's own reply does not count as an answer.
    await record(
        database,
        "answer.created",
        asker,
        at(day + timedelta(days=1), 1),
        subject=("post", 3),
        data={"topic_id": q2},
    )
    await record(
        database,
        "answer.created",
        other,
        at(day + timedelta(days=1), 6),
        recipient_id=asker.id,
        subject=("post", 4),
        data={"topic_id": q2},
    )
    await make_question(database, asker, at(day + timedelta(days=2), 0))
    await record(
        database,
        "like.given",
        other,
        at(day),
        recipient_id=helper.id,
        subject=("post", 1),
        data={"topic_id": q1},
    )
    await record(
        database,
        "like.given",
        asker,
        at(day),
        recipient_id=helper.id,
        subject=("post", 1),
        data={"topic_id": q1},
    )
    await record(
        database,
        "like.undone",
        asker,
        at(day, 14),
        recipient_id=helper.id,
        subject=("post", 1),
        data={"topic_id": q1},
    )
    await login(client, await member_factory(role=Role.admin))

    data = (await client.get("/api/v1/ops/dashboard?start=2025-05-01&end=2025-05-07")).json()
    figures = {f["label"]: f for f in data["figures"]}
    assert figures["Questions answered"]["current"] == 2
    assert figures["Median time to first answer"]["current"] == pytest.approx(4.0)
    assert figures["Unanswered questions"]["current"] == 1
    assert figures["Posts"]["current"] == 4
    assert figures["Topics"]["current"] == 3
    assert figures["Likes"]["current"] == 1
    assert figures["Questions answered"]["previous"] == 0
    questions = _rows(data["charts"]["questions"])
    assert questions["2025-05-01"]["median_hours_to_first_answer"] == pytest.approx(2.0)
    assert questions["2025-05-02"]["median_hours_to_first_answer"] == pytest.approx(6.0)

    page = await client.get("/ops?start=2025-05-01&end=2025-05-07")
    assert page.status_code == 200
    assert "Median time to first answer" in page.text
    assert page.text.count("<svg") >= 5
    csv = await client.get("/ops/export/questions.csv?start=2025-05-01&end=2025-05-07")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "2025-05-01,1,1,2.0,0" in csv.text
    bad = await client.get("/api/v1/ops/dashboard?start=2025-05-09&end=2025-05-01")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "start"


async def test_engagement_decay_rfm_and_deciles(client, member_factory, login, database):
    fan, quiet, idle = [await member_factory(name=n) for n in ("Fan", "Quiet", "Idle")]
    # Posts weigh 2: one today (2), one 30 days ago (2 x 0.9), one 60 days ago (2 x 0.81).
    for age in (0, 30, 60):
        await record(
            database,
            "post.created",
            fan,
            days_ago(age),
            subject=("post", age + 1),
            data={"topic_id": 1},
        )
    await record(database, "member.visited", quiet, days_ago(100))
    operator = await member_factory(role=Role.operator)
    # Staff posts are not the community's: they count in no decile.
    await record(
        database, "post.created", operator, days_ago(1), subject=("post", 99), data={"topic_id": 1}
    )
    await login(client, operator)
    assert (
        await client.post("/ops/recompute", headers={"X-CSRF-Token": await client.csrf_token()})
    ).status_code == 303

    body = (await client.get(f"/api/v1/ops/members/{fan.id}")).json()
    assert body["engagement"] == pytest.approx(2 + 1.8 + 1.62, abs=1e-3)
    assert body["decile"] == 1
    # Active 3 of the last 90 days (F=2), last active today (R=5), no points (M=1), joined today.
    assert body["rfm"] == {"recency": 5, "frequency": 2, "monetary": 1, "group": "new"}
    quiet_body = (await client.get(f"/api/v1/ops/members/{quiet.id}")).json()
    # Signing up today counts as activity; the visit 100 days ago is outside the 90 days.
    assert quiet_body["rfm"]["recency"] == 5
    assert quiet_body["rfm"]["frequency"] == 2
    assert quiet_body["engagement"] == pytest.approx(0.9 ** (100 / 30), abs=1e-3)
    assert quiet_body["decile"] == 4
    # Signed up today (weight 0), so "active" today but without engagement.
    idle_body = (await client.get(f"/api/v1/ops/members/{idle.id}")).json()
    assert idle_body["engagement"] == 0

    today = clock.community_day()
    deciles = (
        await client.get(
            f"/api/v1/ops/charts/deciles?start={today - timedelta(days=90)}&end={today}"
        )
    ).json()
    first = deciles["rows"][0]
    assert first[:3] == [1, 1, 100.0]
    # Three members in ten groups: the first, fourth and seventh hold one each.
    assert [row[1] for row in deciles["rows"]] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    listing = (await client.get("/api/v1/ops/members?sort=engagement")).json()
    assert next(m["display_name"] for m in listing["members"]) == "Fan"
    page = await client.get("/ops/scores")
    assert page.status_code == 200
    assert "Decile analysis" in page.text


@pytest.mark.parametrize("shape", ["one_unscored", "all_scored", "all_scored_no_staff_row"])
async def test_decile_table_sums_each_decile_over_the_period_alone(member_factory, database, shape):
    """The decile table against the same figures worked out here from every daily row: the
    rows it sums come from a partial index (app.models.analytics_member_daily.DECILE_FACTS),
    so each kind of row it must count and each it must leave is present. The deciles' first
    members are found by stepping along the ranking's index when every member has a score
    row (with or without a staff member's row to step over), and by ranking everybody when
    one has none."""
    import random
    from collections import defaultdict

    from sqlalchemy import delete

    from app.analytics import metrics, queries
    from app.kit.sql import dialect_name
    from app.models import AnalyticsMemberDaily, AnalyticsMemberScore

    members = [await member_factory(name=f"D{i}") for i in range(27)]
    staff = await member_factory(name="Staff", role=Role.moderator)
    today = clock.community_day()
    rng = queries.DateRange(today - timedelta(days=9), today)
    shuffle = random.Random(7)
    verbs = ("post.created", "topic.created", "answer.created", "like.given", "like.undone")
    async with database.transaction() as session:
        await session.execute(delete(AnalyticsMemberDaily))
        await session.execute(delete(AnalyticsMemberScore))
        for i, member in enumerate(members):
            # Ties on heat go by member id; the last member may have no score row (heat 0).
            if i < len(members) - 1 or shape != "one_unscored":
                session.add(AnalyticsMemberScore(member_id=member.id, heat_base=float(i % 9)))
            for offset in (-12, -10, -9, -4, 0):  # two days before the period, three in it
                day = today + timedelta(days=offset)
                for verb in verbs:
                    done, received = shuffle.choice((0, 1, 3)), shuffle.choice((0, 2, 5))
                    if done or received:
                        session.add(
                            AnalyticsMemberDaily(
                                member_id=member.id,
                                day=day,
                                verb=verb,
                                done=done,
                                received=received,
                            )
                        )
            # Rows the table never sums: visits, and a moderator's posts and likes.
            session.add(
                AnalyticsMemberDaily(member_id=member.id, day=today, verb="member.visited", done=1)
            )
        if shape != "all_scored_no_staff_row":
            # Scored while a member, since made staff: the most engaged row, outside the ranking.
            session.add(AnalyticsMemberScore(member_id=staff.id, heat_base=100.0))
        for verb in verbs:
            session.add(
                AnalyticsMemberDaily(member_id=staff.id, day=today, verb=verb, done=7, received=7)
            )

    async with database.transaction(write=False) as session:
        heats = dict(
            (
                await session.execute(
                    select(AnalyticsMemberScore.member_id, AnalyticsMemberScore.heat_base)
                )
            ).all()
        )
        daily = (
            await session.execute(
                select(
                    AnalyticsMemberDaily.member_id,
                    AnalyticsMemberDaily.day,
                    AnalyticsMemberDaily.verb,
                    AnalyticsMemberDaily.done,
                    AnalyticsMemberDaily.received,
                )
            )
        ).all()
    ranking = metrics.deciles({m.id: heats.get(m.id, 0.0) for m in members})
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for member_id, day, verb, done, received in daily:
        if member_id not in ranking or not rng.start <= day <= rng.end:
            continue
        totals = sums[ranking[member_id]]
        totals[0] += done if verb in ("post.created", "topic.created") else 0
        totals[1] += done if verb == "answer.created" else 0
        totals[2] += {"like.given": received, "like.undone": -received}.get(verb, 0)
    expected = metrics.decile_shares(
        metrics.decile_sizes(len(members)), {d: (p, a, lk) for d, (p, a, lk) in sums.items()}
    )

    with recording(database) as statements:
        async with database.session(write=False) as session:
            table = await queries.decile_table(session, rng)
            facts, params = next(s for s in statements if "FROM analytics_member_daily" in s[0])
            steps = [s for s in statements if "OFFSET" in s[0] and "row_number" not in s[0]]
            if dialect_name(session) == "sqlite":
                # Read from the partial index alone, on a database that was never analysed.
                connection = await session.connection()
                plan = (
                    await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {facts}", params)
                ).all()
                step_plans = [
                    (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {step}", args)).all()
                    for step, args in steps
                ]
    assert table.rows == [
        [row.decile, row.members, row.posts, row.answers, row.likes_received] for row in expected
    ]
    assert sum(row[2] for row in table.rows) == pytest.approx(100.0)
    assert all(any(row[column] for row in table.rows) for column in (2, 3, 4))
    ranked_everybody = any("row_number" in statement for statement, _params in statements)
    assert ranked_everybody == (shape == "one_unscored")
    # One step to each of the nine deciles' first members, or none.
    assert len(steps) == (0 if ranked_everybody else 9)
    if dialect_name(session) == "sqlite":
        assert any(
            "COVERING INDEX ix_analytics_member_daily_decile_facts" in row[-1] for row in plan
        ), plan
        for step_plan in step_plans:
            details = " ".join(row[-1] for row in step_plan)
            assert "INDEX ix_analytics_member_scores_ranking" in details, details
            assert "TEMP B-TREE" not in details, details


async def test_rank_distribution_and_top_content(client, member_factory, login, database):
    from sqlalchemy import update

    from app.models import AnalyticsTopicDaily, Member, Rank, Topic

    fans = [await member_factory() for _ in range(4)]
    async with database.transaction() as session:
        low = Rank(name_en="Bronze", name_ja="ブロンズ", threshold=0)
        high = Rank(name_en="Gold", name_ja="ゴールド", threshold=500)
        session.add_all([low, high])
        await session.flush()
        for fan, rank in zip(fans, (low, low, high, None), strict=True):
            await session.execute(
                update(Member).where(Member.id == fan.id).values(rank_id=rank and rank.id)
            )
    day = date(2025, 6, 10)
    topics = [await make_question(database, fans[0], at(day)) for _ in range(13)]
    async with database.transaction() as session:
        for n, topic_id in enumerate(topics):
            # Likes rise with n, visitors fall; the first topic is deleted and must not show.
            session.add(AnalyticsTopicDaily(day=day, topic_id=topic_id, likes=n + 1, views=50 - n))
        session.add(
            AnalyticsTopicDaily(
                day=day - timedelta(days=30), topic_id=topics[1], likes=99, views=99
            )
        )
        await session.execute(
            update(Topic).where(Topic.id == topics[0]).values(deleted_at=clock.now())
        )
    await login(client, await member_factory(role=Role.admin))

    ranks = (await client.get("/ops/export/ranks.csv?start=2025-06-01&end=2025-06-30")).text
    assert "Bronze,2" in ranks
    assert "Gold,1" in ranks
    # The fourth fan and the admin (not a member of the population) aside: one without a rank.
    assert "No rank yet,1" in ranks

    likes = (await client.get("/ops/export/top_likes.csv?start=2025-06-01&end=2025-06-30")).text
    liked = [line.split(",")[0] for line in likes.strip().splitlines()[1:]]
    assert liked == [str(t) for t in reversed(topics[3:])]  # ten, most liked first
    views = (await client.get("/ops/export/top_views.csv?start=2025-06-01&end=2025-06-30")).text
    viewed = [line.split(",")[0] for line in views.strip().splitlines()[1:]]
    assert viewed == [str(t) for t in topics[1:11]]  # the deleted topics[0] had the most


async def test_period_index_in_sql_matches_the_periods(database):
    # The cohort and churn tables count by period in the database: each value's period index
    # must be the one whose start is the last at or before it, for any number of periods.
    for count in (1, 2, 3, 53):
        starts = [10 * i for i in range(count)]
        values = list(range(-5, 10 * count + 5, 3))
        async with database.transaction() as session:
            found = (
                await session.execute(
                    select(*(period_of(literal_column(str(v)), starts) for v in values))
                )
            ).one()
        assert list(found) == [min(v // 10, count - 1) if v >= 0 else -1 for v in values]


@pytest.mark.parametrize("sort", ["engagement", "points", "last_active", "reach", "joined"])
async def test_member_table_pages_in_order_without_gaps(sort, member_factory, database):
    """The operator's member table, walked page by page with its cursor, lists every member of
    the population once, in the sort's order (ties and members without scores included)."""
    from sqlalchemy import delete, update

    from app.analytics import queries, segments
    from app.models import AnalyticsMemberScore, Member

    members = [await member_factory(name=f"M{i}") for i in range(8)]
    await member_factory(name="Staff", role=Role.moderator)
    heats = [5.0, 2.0, 2.0, 0.0, 9.0, 2.0, None, None]  # None: no score row yet
    async with database.transaction() as session:
        await session.execute(delete(AnalyticsMemberScore))
        for i, (member, heat) in enumerate(zip(members, heats, strict=True)):
            await session.execute(
                update(Member).where(Member.id == member.id).values(lifetime_points=(i * 7) % 3)
            )
            if heat is not None:
                session.add(
                    AnalyticsMemberScore(
                        member_id=member.id,
                        heat_base=heat,
                        reach=i % 2,
                        last_active_day=date(2025, 1, 1 + i % 3),
                    )
                )

    def key(i: int):
        heat = heats[i]
        return {
            "engagement": heat or 0.0,
            "points": (i * 7) % 3,
            "last_active": date(2025, 1, 1 + i % 3) if heat is not None else date(1970, 1, 1),
            "reach": i % 2 if heat is not None else 0,
            "joined": members[i].id,
        }[sort]

    expected = [
        members[i].id for i in sorted(range(8), key=lambda i: (key(i), members[i].id), reverse=True)
    ]
    seen: list[int] = []
    cursor = None
    async with database.transaction() as session:
        while True:
            page = await queries.member_page(
                session, segments.MemberFilter(), sort=sort, cursor=cursor, limit=3
            )
            assert len(page.rows) <= 3
            seen += [row.member.id for row in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == expected
