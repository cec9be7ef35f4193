"""Statements run as Core on the session's connection (app.kit.sql) belong to the session's
current transaction: what it rolls back is gone, what it commits stays, and a session that
goes on to a second transaction runs them in that one."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import bindparam, event, func, literal, literal_column, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.analytics import community
from app.db import database_unavailable
from app.kit import sql
from app.kit.sql import execute_core, run_prebuilt
from app.models import (
    AnalyticsDaily,
    AnalyticsMemberDaily,
    AnalyticsMemberScore,
    Category,
    Member,
    Upload,
)
from app.uploads import service as uploads
from tests.factories import make_member
from tests.statements import counting
from tests.uploads.images import image_bytes


def _add(insert_):
    table = Category.__table__
    return insert_(table).values(
        slug=bindparam("p_slug"),
        name_en=bindparam("p_slug"),
        name_ja=bindparam("p_slug"),
        description_en="",
    )


async def _slugs(database) -> list[str]:
    async with database.transaction(write=False) as session:
        return list(
            (await session.execute(select(Category.slug).order_by(Category.slug))).scalars()
        )


async def test_core_statements_follow_the_sessions_transactions(database):
    async with database.session(write=True) as session:
        await run_prebuilt(session, "test.category", _add, {"p_slug": "dropped"})
        await session.rollback()
        await run_prebuilt(session, "test.category", _add, {"p_slug": "kept"})
        await session.commit()
        # A second transaction of the same session: its statements see the first's rows.
        await run_prebuilt(session, "test.category", _add, {"p_slug": "second"})
        count = await execute_core(session, select(func.count()).select_from(Category))
        assert count.scalar_one() == 2
        await session.commit()
    assert await _slugs(database) == ["kept", "second"]


# --- prebuilt statements on the driver (sqlite3, asyncpg) --------------------------------------


def _daily_upsert(insert_):
    # Every column given, a date and a count handed back: what the write paths' rollups do.
    table = AnalyticsMemberDaily.__table__
    stmt = insert_(table).values(
        member_id=bindparam("p_member"),
        day=bindparam("p_day"),
        verb=bindparam("p_verb"),
        done=bindparam("p_done"),
        received=literal(0),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.member_id, table.c.day, table.c.verb],
        set_={"done": table.c.done + stmt.excluded.done},
    ).returning(table.c.day, table.c.done)


def _category_from_params(insert_):
    # No values(): the columns are the parameters' names, the others take their defaults.
    return insert_(Category.__table__)


def _daily_rows(insert_):
    return insert_(AnalyticsMemberDaily.__table__)


def _driver_plans(key) -> list[bool]:
    return [plan is not None for (_, seen, *_rest), plan in sql._PLANS.items() if seen == key]


async def test_prebuilt_statements_return_typed_rows_and_keep_defaults(database):
    member = await make_member(database)
    day = date(2026, 12, 4)
    async with database.transaction() as session:
        params = {"p_member": member.id, "p_day": day, "p_verb": "like.given", "p_done": 1}
        first = (await run_prebuilt(session, "test.daily", _daily_upsert, params)).one()
        again = (await run_prebuilt(session, "test.daily", _daily_upsert, params)).one()
        # An INSERT whose columns come from the parameters: the omitted ones get defaults.
        await run_prebuilt(
            session,
            "test.category_from_params",
            _category_from_params,
            {"slug": "tea", "name_en": "Tea"},
        )
        # Several rows at once (an executemany).
        rows = [
            {"member_id": member.id, "day": day, "verb": verb, "done": 2, "received": 0}
            for verb in ("post.created", "topic.created")
        ]
        await run_prebuilt(session, "test.daily_rows", _daily_rows, rows)
    # A broken unique key is the same error as through SQLAlchemy, and nothing of its
    # transaction stays.
    async with database.transaction() as session:
        await run_prebuilt(
            session,
            "test.category_from_params",
            _category_from_params,
            {"slug": "mugs", "name_en": "M"},
        )
        with pytest.raises(IntegrityError):
            await run_prebuilt(session, "test.daily_rows", _daily_rows, rows[0])
        await session.rollback()
    assert first.day == day
    assert isinstance(first.day, date)
    assert (first.done, again.done) == (1, 2)
    async with database.transaction(write=False) as session:
        categories = list((await session.execute(select(Category))).scalars())
        counts = dict(
            (
                await session.execute(
                    select(AnalyticsMemberDaily.verb, AnalyticsMemberDaily.done).where(
                        AnalyticsMemberDaily.member_id == member.id
                    )
                )
            ).all()
        )
    assert [category.slug for category in categories] == ["tea"]
    tea = categories[0]
    assert (tea.name_en, tea.kind, tea.colour, tea.position) == ("Tea", "discussion", "#b3261e", 0)
    assert tea.created_at is not None
    written = ("like.given", "post.created", "topic.created")
    assert {verb: counts.get(verb) for verb in written} == dict.fromkeys(written, 2)
    # The upsert and the executemany ran on the driver (sqlite3 or asyncpg); the INSERT
    # whose defaults SQLAlchemy computes per execution did not.
    assert _driver_plans("test.daily") == [True]
    assert _driver_plans("test.daily_rows") == [True, True]
    assert _driver_plans("test.category_from_params") == [False]


def _daily_twice(insert_):
    # One parameter in two places and values fixed in the statement itself.
    table = AnalyticsMemberDaily.__table__
    return insert_(table).values(
        member_id=bindparam("p_member"),
        day=bindparam("p_day"),
        verb=literal("test.fixed"),
        done=bindparam("p_n"),
        received=bindparam("p_n") + literal(5),
    )


async def test_prebuilt_parameters_land_where_sqlalchemy_puts_them(database):
    member = await make_member(database)
    async with database.transaction() as session:
        for n, day in ((3, date(2026, 12, 1)), (4, date(2026, 12, 2))):
            await run_prebuilt(
                session,
                "test.daily_twice",
                _daily_twice,
                {"p_member": member.id, "p_day": day, "p_n": n},
            )
    async with database.transaction(write=False) as session:
        rows = (
            await session.execute(
                select(
                    AnalyticsMemberDaily.day,
                    AnalyticsMemberDaily.verb,
                    AnalyticsMemberDaily.done,
                    AnalyticsMemberDaily.received,
                )
                .where(
                    AnalyticsMemberDaily.member_id == member.id,
                    AnalyticsMemberDaily.verb == "test.fixed",
                )
                .order_by(AnalyticsMemberDaily.day)
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        (date(2026, 12, 1), "test.fixed", 3, 8),
        (date(2026, 12, 2), "test.fixed", 4, 9),
    ]
    assert _driver_plans("test.daily_twice") == [True]


async def test_prebuilt_statements_on_the_driver_roll_back_with_the_transaction(database):
    member = await make_member(database)
    params = {"p_member": member.id, "p_day": date(2026, 12, 4), "p_verb": "x", "p_done": 5}
    async with database.session(write=True) as session:
        await run_prebuilt(session, "test.daily", _daily_upsert, params)
        await session.rollback()
    async with database.transaction(write=False) as session:
        left = await session.scalar(select(func.count()).where(AnalyticsMemberDaily.verb == "x"))
    assert left == 0


class _Gave(Exception):
    pass


async def test_a_write_in_a_before_commit_listener_commits_and_rolls_back_with_it(database):
    """The community tally's upsert, written as the transaction commits (app.analytics.
    community), lands with the commit and not without it; on SQLite it goes straight to
    sqlite3, as the transaction's other prebuilt statements do."""
    day = date(2026, 12, 4)

    async def tallied(amount: int, *, give_up: bool = False) -> None:
        async with database.transaction() as session:
            await session.connection()  # the transaction has begun, as after any write
            community.tally(session).daily[(day, "test.tallied")] += amount
            if give_up:
                raise _Gave

    await tallied(2)
    await tallied(3)
    with pytest.raises(_Gave):
        await tallied(7, give_up=True)
    async with database.transaction(write=False) as session:
        count = await session.scalar(
            select(AnalyticsDaily.count).where(
                AnalyticsDaily.day == day, AnalyticsDaily.verb == "test.tallied"
            )
        )
    assert count == 5
    if database.is_sqlite:
        # (one plan for a row, one for several, once another test has written several)
        assert set(_driver_plans("community.daily")) == {True}


async def test_statements_are_seen_by_engine_listeners(database):
    """A listener on the engine's statements (query counters, logging) sees the prebuilt
    ones too: they then go through SQLAlchemy."""
    member = await make_member(database)
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.transaction() as session:
            params = {"p_member": member.id, "p_day": date(2026, 12, 4), "p_verb": "y", "p_done": 1}
            await run_prebuilt(session, "test.daily", _daily_upsert, params)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert any("INSERT INTO analytics_member_daily" in statement for statement in seen)


async def _read_both_ways(session, read, key: str, statement, params):
    """The rows of ``read`` (a driver read) as the driver gave them, and SQLAlchemy's rows,
    checked to be what the read's converter makes of the driver's."""
    expected = [tuple(row) for row in await session.execute(statement, params)]
    found = await read(session, key, statement, params)
    assert found is not None
    rows, convert = found
    assert [convert(row) for row in rows] == expected
    return rows, expected


async def _score_of_every_kind(session, member_id: int, **values) -> None:
    """A member's score row holding a date, JSON, a boolean and a missing value."""
    await session.execute(
        update(AnalyticsMemberScore)
        .where(AnalyticsMemberScore.member_id == member_id)
        .values(
            last_active_day=date(2026, 12, 4),
            explanation=[{"signal": "likes", "count": 3}],
            dirty=False,
            decile=None,
            **values,
        )
    )


async def test_reads_on_the_driver_give_sqlalchemys_values(database):
    """A read straight on the driver (sqlite3, or asyncpg on PostgreSQL) hands back the rows
    as the driver gives them and converts each one to exactly what SQLAlchemy would have
    returned: times with their zone, dates, floats, JSON, booleans and missing values."""
    member = await make_member(database)
    async with database.transaction() as session:
        await _score_of_every_kind(session, member.id, heat_base=2.5)
    statement = (
        select(
            Member.id,
            Member.created_at,
            Member.handle,
            Member.silenced_until,
            AnalyticsMemberScore.heat_base,
            AnalyticsMemberScore.last_active_day,
            AnalyticsMemberScore.explanation,
            AnalyticsMemberScore.dirty,
            AnalyticsMemberScore.decile,
        )
        .join(AnalyticsMemberScore, AnalyticsMemberScore.member_id == Member.id)
        .where(Member.id == bindparam("p_member"))
    )
    params = {"p_member": member.id}
    async with database.transaction(write=False) as session:
        rows, expected = await _read_both_ways(
            session, sql.driver_rows, "test.member_score", statement, params
        )
    assert expected[0][0] == member.id
    assert expected[0][1].tzinfo is not None
    assert expected[0][4:] == (
        2.5,
        date(2026, 12, 4),
        [{"signal": "likes", "count": 3}],
        False,
        None,
    )
    if database.is_sqlite:
        assert isinstance(rows[0][1], str)  # as stored
    assert _driver_plans("test.member_score") == [True]


async def test_packed_rows_give_the_same_values(database):
    """A read whose rows the database packs into one JSON text each gives exactly the values of
    an unpacked read: text with quotes, backslashes, control characters, NUL, line separators
    and emoji, the largest integer, times with their zone, dates, JSON, booleans and missing
    values. Reals and blobs, which JSON cannot carry exactly, are refused."""
    member = await make_member(database)
    awkward = 'He said "hi" \\ \x01\t\n\u2028 😀 <b>&amp;</b>'
    if database.is_sqlite:
        awkward += "\x00"  # PostgreSQL's text cannot hold NUL
    async with database.transaction() as session:
        session.add(
            Category(
                slug="awkward",
                name_en=awkward,
                name_ja="日本語",
                description_en="",
                position=2**31 - 1,
            )
        )
        await _score_of_every_kind(session, member.id)
    statement = (
        select(
            Category.name_en,
            Category.name_ja,
            Category.position,
            Member.created_at,
            Member.silenced_until,
            AnalyticsMemberScore.last_active_day,
            AnalyticsMemberScore.explanation,
            AnalyticsMemberScore.dirty,
            AnalyticsMemberScore.decile,
            literal_column("NULL").label("missing"),
        )
        .join(AnalyticsMemberScore, AnalyticsMemberScore.member_id == Member.id)
        .join(Category, Category.slug == literal("awkward"))
        .where(Member.id == bindparam("p_member"))
    )
    params = {"p_member": member.id}
    async with database.session(write=False) as session:
        rows, expected = await _read_both_ways(
            session, sql.driver_rows_packed, "test.packed", statement, params
        )
    assert expected[0][:3] == (awkward, "日本語", 2**31 - 1)
    assert expected[0][3].tzinfo is not None
    assert len(rows[0]) == 1  # one text per row
    assert isinstance(rows[0][0], str)
    with pytest.raises(TypeError, match="heat_base"):
        async with database.session(write=False) as session:
            await sql.driver_rows_packed(
                session, "test.packed_real", select(AnalyticsMemberScore.heat_base), {}
            )


def _transaction_id(_insert):
    return select(func.txid_current())


def _categories_named(_insert):
    return select(Category.slug).where(Category.slug.like(bindparam("p_prefix") + "%"))


async def test_a_read_on_the_driver_belongs_to_the_sessions_transaction(database):
    """In a write transaction a read on the driver sees the transaction's own writes, before
    and after a statement that goes through SQLAlchemy, and nothing of them once it rolls
    back (on PostgreSQL the read begins the transaction as SQLAlchemy would have)."""
    prefix = {"p_prefix": "txn-"}
    async with database.session(write=True) as session:
        assert await sql.read_prebuilt(session, "test.named", _categories_named, prefix) == []
        if not database.is_sqlite:
            # The first read began the transaction: the next ones run within it.
            first = await sql.read_prebuilt(session, "test.txid", _transaction_id, {})
            assert await sql.read_prebuilt(session, "test.txid", _transaction_id, {}) == first
        await run_prebuilt(session, "test.category", _add, {"p_slug": "txn-one"})
        assert await sql.read_prebuilt(session, "test.named", _categories_named, prefix) == [
            ("txn-one",)
        ]
        await session.rollback()
        assert await sql.read_prebuilt(session, "test.named", _categories_named, prefix) == []
        await run_prebuilt(session, "test.category", _add, {"p_slug": "txn-two"})
        await session.commit()
    async with database.transaction(write=False) as session:
        found = await sql.read_prebuilt(session, "test.named", _categories_named, prefix)
    assert found == [("txn-two",)]
    assert _driver_plans("test.named") == [True]


def _broken(_insert):
    return select(literal_column("no_such_column")).select_from(Member.__table__)


async def test_a_failed_read_on_the_driver_raises_sqlalchemys_error(database):
    """A statement the database refuses raises SQLAlchemy's error, naming the statement, and
    the read session goes on working."""
    member = await make_member(database)
    async with database.transaction(write=False) as session:
        with pytest.raises(DBAPIError) as failed:
            await sql.read_prebuilt(session, "test.broken", _broken, {})
        assert "no_such_column" in str(failed.value)
        assert not failed.value.connection_invalidated
        rows = await sql.read_prebuilt(session, "test.named", _categories_named, {"p_prefix": ""})
        assert rows == []
        found = await sql.read_prebuilt(
            session, "test.members_in", _members_in, {"p_ids": [member.id]}
        )
    assert [row[0] for row in found] == [member.id]


async def test_a_read_on_a_lost_connection_is_an_outage(database):
    """PostgreSQL: a read on the driver over a connection the server has closed raises the
    error the app answers with 503 (the connection invalidated), and the next session gets
    a working connection."""
    if database.is_sqlite:
        pytest.skip("a SQLite file has no server to lose")
    member = await make_member(database)
    params = {"p_ids": [member.id]}
    async with database.session(write=False) as session:
        await sql.read_prebuilt(session, "test.members_in", _members_in, params)
        pid = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
        async with database.transaction(write=False) as other:
            await other.execute(select(func.pg_terminate_backend(pid)))
        with pytest.raises(DBAPIError) as failed:
            await sql.read_prebuilt(session, "test.members_in", _members_in, params)
    assert failed.value.connection_invalidated
    assert database_unavailable(failed.value)
    async with database.transaction(write=False) as session:
        found = await sql.read_prebuilt(session, "test.members_in", _members_in, params)
    assert [row[0] for row in found] == [member.id]


def _members_in(_insert):
    return (
        select(Member.id, Member.created_at)
        .where(sql.in_ids(Member.id, "p_ids"))
        .order_by(Member.id)
    )


async def test_a_list_of_ids_is_one_parameter_of_a_statement_built_once(database):
    """``in_ids`` takes any number of ids in one parameter, so one compiled statement serves
    lists of every length (on SQLite it runs on the driver); the rows are SQLAlchemy's
    values, and only the listed members come back."""
    members = [await make_member(database) for _ in range(3)]
    first, second, third = (member.id for member in members)
    async with database.transaction(write=False) as session:
        found = {
            len(ids): await sql.read_prebuilt(
                session, "test.members_in", _members_in, {"p_ids": ids}
            )
            for ids in ([], [third], [third, first], [first, second, third, 10**9])
        }
    assert [[row[0] for row in rows] for rows in found.values()] == [
        [],
        [third],
        [first, third],
        [first, second, third],
    ]
    assert found[1][0][1] == members[2].created_at  # a datetime, as SQLAlchemy gives it
    assert _driver_plans("test.members_in") == [True]


async def test_an_object_made_from_its_columns_is_as_if_loaded(database):
    """as_loaded: the member and avatar made from one row of columns join a session with no
    statement to read them and nothing to write, and a change to them is written."""
    member = await make_member(database, name="Column Fan")
    async with database.transaction() as session:
        loaded = await session.get(Member, member.id)
        assert loaded is not None
        upload = await uploads.set_avatar(session, loaded, image_bytes("PNG", (32, 32)))

    members, avatars = sql.loading_columns(Member), sql.loading_columns(Upload)
    statement = (
        select(*members, *avatars)
        .join(Upload, Upload.id == Member.avatar_upload_id)
        .where(Member.id == bindparam("p_id"))
    )
    async with database.session(write=True) as session:
        [row] = await sql.read_prebuilt(
            session, "test.as_loaded", lambda _i: statement, {"p_id": member.id}
        )
        avatar = sql.as_loaded(Upload, row[len(members) :])
        made = sql.as_loaded(Member, row[: len(members)], avatar=avatar)
        session.add(made)
        with counting(database) as statements:
            assert sql.loaded(session, Member, member.id) is made
            assert (made.display_name, made.avatar.id, made.avatar.url) == (
                "Column Fan",
                upload.id,
                upload.url,
            )
            assert not session.dirty
            assert not session.new
            await session.flush()
        assert statements == []
        made.bio = "Made from columns"
        await session.commit()
    async with database.transaction(write=False) as session:
        stored = await session.get(Member, member.id)
        assert stored is not None
        assert (stored.bio, stored.display_name, stored.avatar_upload_id) == (
            "Made from columns",
            "Column Fan",
            upload.id,
        )
