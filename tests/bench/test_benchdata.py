"""`kizuna bench-data`'s community has what the benchmarked lists show: here, questions that
nobody has answered yet (the "unanswered" list), the newest among them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from app.benchdata import Scale, generate
from app.config import Settings
from app.models import Base


async def test_some_questions_wait_for_their_first_answer(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()
    scale = Scale(members=400, topics=120, posts=4000, likes=3000, activities=20000, nps=50)
    settings = Settings(database_url=url, env="test", smtp_url="", redis_url="")

    summary = await generate(scale, settings=settings, progress=lambda _line: None)

    with sqlite3.connect(path) as db:
        questions = db.execute(
            "SELECT id, reply_count FROM topics WHERE kind = 'question' ORDER BY id"
        ).fetchall()
        unanswered = [topic for topic, replies in questions if replies == 0]
        # Every topic's counter is its posts after the first, answered or not.
        mismatched = db.execute(
            "SELECT count(*) FROM topics WHERE reply_count != "
            "(SELECT count(*) - 1 FROM posts WHERE posts.topic_id = topics.id)"
        ).fetchone()[0]
        posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
        deep_replies = db.execute(
            "SELECT reply_count FROM topics WHERE id = ?", (summary.deep_topic_id,)
        ).fetchone()[0]
        accepted_unanswered = db.execute(
            "SELECT count(*) FROM topics WHERE kind = 'question' AND reply_count = 0 "
            "AND accepted_post_id IS NOT NULL"
        ).fetchone()[0]

    assert questions, "a quarter of the topics are questions"
    # The newest question is not answered yet; some older ones never were; most were.
    assert questions[-1][0] in unanswered
    assert 1 <= len(unanswered) < len(questions) / 2
    assert summary.unanswered == len(unanswered)
    assert accepted_unanswered == 0
    assert mismatched == 0
    # Their replies went to other topics: the community keeps the posts it was asked for.
    assert posts == scale.posts
    assert deep_replies > 0
