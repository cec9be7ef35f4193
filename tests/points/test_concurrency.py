"""Many identical requests at once against a real server (uvicorn in a subprocess, on a file
SQLite database or PostgreSQL, whichever the run uses): one action, one ledger row."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db import Database
from app.models import PointLedgerEntry, PostLike
from tests.points.conftest import api_token, ledger_count, totals

REQUESTS = 50
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port. The test binds the socket and hands
    it over, so requests simply wait in the listen queue until the server is up."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    env = {**os.environ, "KIZUNA_API_TOKEN_REQUESTS_PER_MINUTE": "10000"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            "warning",
        ],
        pass_fds=[listener.fileno()],
        cwd=ROOT,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        listener.close()


async def _storm(url: str, **request: Any) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        return list(await asyncio.gather(*(http.post(url, **request) for _ in range(REQUESTS))))


async def _points_check() -> int:
    from app.cli import main

    return await asyncio.to_thread(main, ["points", "check"])


async def test_fifty_identical_awards_pay_once(server, member_factory, database):
    operator = await member_factory(role="operator", locale="en")
    token = await api_token(database, operator)
    fan = await member_factory(locale="en")
    responses = await _storm(
        f"{server}/api/v1/points/awards",
        json={"member_id": fan.id, "amount": 40, "reason": "Store visit"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "storm-1"},
    )
    assert [response.status_code for response in responses] == [201] * REQUESTS
    assert len({response.json()["ledger_id"] for response in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed")) == REQUESTS - 1
    assert await ledger_count(database, PointLedgerEntry.kind == "external") == 1
    assert await totals(database, fan) == (50, 50)
    assert await _points_check() == 0


async def _post_by(database: Database, author: Any) -> int:
    from app.forums import service as forums
    from app.forums.schemas import CategoryIn, TopicIn
    from app.models import Category, Member

    async with database.transaction() as session:
        category = await session.scalar(select(Category).where(Category.slug == "storm"))
        if category is None:
            category = await forums.create_category(
                session, CategoryIn(slug="storm", name_en="Storm")
            )
        writer = await session.get(Member, author.id)
        assert writer is not None
        _topic, post = await forums.create_topic(
            session,
            writer,
            TopicIn(category_id=category.id, title="Like me please", body="A post to like."),
        )
        return post.id


async def test_fifty_identical_likes_make_one_like_and_one_ledger_row(
    server, member_factory, database
):
    author = await member_factory(locale="en")
    fan = await member_factory(locale="en")
    post_id = await _post_by(database, author)
    before = await totals(database, author)
    token = await api_token(database, fan)
    responses = await _storm(
        f"{server}/p/{post_id}/like", headers={"Authorization": f"Bearer {token}"}
    )
    assert all(response.status_code < 400 for response in responses), {
        response.status_code for response in responses
    }
    async with database.transaction(write=False) as session:
        likes = await session.scalar(
            select(func.count()).select_from(PostLike).where(PostLike.post_id == post_id)
        )
    assert likes == 1
    assert (
        await ledger_count(
            database,
            PointLedgerEntry.kind == "like.given",
            PointLedgerEntry.subject_id == post_id,
        )
        == 1
    )
    assert await totals(database, author) == (before[0] + 1, before[1] + 1)
    assert await _points_check() == 0


async def test_members_liking_each_other_at_once_all_succeed(server, member_factory, database):
    """Two fans like each other's posts at the same moment: every like counts and pays, and no
    request fails on a lock-order deadlock between the two members' rows (PostgreSQL)."""
    first = await member_factory(locale="en")
    second = await member_factory(locale="en")
    posts = {first.id: [], second.id: []}
    for _ in range(8):
        posts[first.id].append(await _post_by(database, first))
        posts[second.id].append(await _post_by(database, second))
    tokens = {
        first.id: await api_token(database, first),
        second.id: await api_token(database, second),
    }
    before = {first.id: await totals(database, first), second.id: await totals(database, second)}
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    f"{server}/p/{post_id}/like",
                    headers={"Authorization": f"Bearer {tokens[liker]}"},
                )
                for liker, author in ((first.id, second.id), (second.id, first.id))
                for post_id in posts[author]
            )
        )
    assert [response.status_code for response in responses if response.status_code >= 400] == []
    async with database.transaction(write=False) as session:
        likes = await session.scalar(select(func.count()).select_from(PostLike))
    assert likes == 16
    for member in (first, second):
        lifetime, spendable = before[member.id]
        # eight likes received, and the day's first visit (their first request)
        assert await totals(database, member) == (lifetime + 9, spendable + 9)
    assert await _points_check() == 0


async def _question_with_answers(database: Database, asker: Any, answerers: list[Any]) -> list[int]:
    """A question by ``asker`` answered once by each of ``answerers``: the answers' post ids."""
    from app.forums import service as forums
    from app.forums.schemas import CategoryIn, ReplyIn, TopicIn
    from app.models import Category, Member

    async with database.transaction() as session:
        category = await session.scalar(select(Category).where(Category.slug == "askhere"))
        if category is None:
            category = await forums.create_category(
                session, CategoryIn(slug="askhere", name_en="Ask here", kind="question")
            )
        writer = await session.get(Member, asker.id)
        assert writer is not None
        topic, _post = await forums.create_topic(
            session,
            writer,
            TopicIn(category_id=category.id, title="Which lens first?", body="Help me choose."),
        )
        answers = []
        for answerer in answerers:
            member = await session.get(Member, answerer.id)
            assert member is not None
            post, _context = await forums.create_reply(
                session, member, topic.id, ReplyIn(body="This one, in my experience.")
            )
            answers.append(post.id)
        return answers


async def test_askers_switching_answers_by_the_same_people_all_succeed(
    server, member_factory, database
):
    """Two askers keep switching their accepted answer between two members who answered both
    questions, in opposite orders, all at once: every switch succeeds (no lock-order
    deadlock between the answerers' rows on PostgreSQL) and the points still add up."""
    askers = [await member_factory(locale="en") for _ in range(2)]
    first, second = await member_factory(locale="en"), await member_factory(locale="en")
    plans = [
        (askers[0], await _question_with_answers(database, askers[0], [first, second])),
        (askers[1], await _question_with_answers(database, askers[1], [second, first])),
    ]
    tokens = {asker.id: await api_token(database, asker) for asker, _answers in plans}
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.put(
                    f"{server}/api/v1/posts/{answers[turn % 2]}/accept",
                    headers={"Authorization": f"Bearer {tokens[asker.id]}"},
                )
                for turn in range(12)
                for asker, answers in plans
            )
        )
    assert [response.status_code for response in responses if response.status_code >= 400] == []
    assert await _points_check() == 0
