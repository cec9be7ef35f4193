"""The reference page: the stack's practical limit, measured beside Kizuna in the same run.

The shape of TechEmpower's "Fortunes" test: a bare FastAPI async route reads 20 rows with the
raw database driver (sqlite3 or asyncpg, no ORM) and renders them in a Jinja2 table. It reads
the same database Kizuna serves (the 20 most recently active topics, through the index Kizuna's
own list uses), so the ratio of a Kizuna page to this one is what the app costs on top of the
driver, the template engine and the server.

It also answers ``PUT /like``, the reference for writes: one transaction of a like's shape
with the raw driver (insert a row with a unique key, bump two counters, append a log row),
committed before it answers. It writes to scratch tables of its own (created at start, dropped
at stop), never to Kizuna's, so the ratio of Kizuna's like to it is what the app's like costs
on top of the driver, the database's commit and the server.

Run: ``BENCH_DATABASE_URL=... uvicorn bench.reference_app:app``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment

QUERY = (
    "SELECT id, title, reply_count, last_posted_at FROM topics "
    "ORDER BY last_posted_at DESC, id DESC LIMIT 20"
)
TEMPLATE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><title>Fortunes</title></head><body>
<table>
<tr><th>id</th><th>title</th><th>replies</th><th>last post</th></tr>
{% for row in rows %}<tr><td>{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ row[2] }}</td>\
<td>{{ row[3] }}</td></tr>
{% endfor %}</table>
</body></html>"""
)
POOL_SIZE = 8
# The write reference's scratch tables: likes with their unique key, counters, a log.
SCRATCH = ("bench_ref_likes", "bench_ref_counters", "bench_ref_log")
COUNTER_ROWS = 1000
# (post, member) pairs never repeat: this process's id and a running count pick them.
_pairs = itertools.count()


def next_pair() -> tuple[int, int]:
    n = next(_pairs)
    return os.getpid() * 1_000_000 + n // 1000, n % 1000 + 1


def scratch_ddl(serial: str) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS bench_ref_likes (post_id BIGINT NOT NULL, "
        "member_id BIGINT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (post_id, member_id))",
        "CREATE TABLE IF NOT EXISTS bench_ref_counters (id INTEGER PRIMARY KEY, "
        "likes INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS bench_ref_log (id {serial} PRIMARY KEY, verb TEXT NOT NULL, "
        "actor_id BIGINT NOT NULL, subject_id BIGINT NOT NULL, created_at TEXT NOT NULL)",
    ]


class SqlitePool:
    """Reads on one read-only sqlite3 connection on the event loop's thread; writes on an
    aiosqlite connection.

    The reads make no trip to another thread, as Kizuna's own reads do not
    (app.kit.sqlite_driver): a read in WAL mode never waits for a lock. Through aiosqlite,
    each read was a trip to a connection's thread and back, and with one worker that capped
    the reference at 1,772 requests/s against 5,218 on the loop's thread, while two workers
    reached 7,278 and 9,220 (same sitting, bench/ANALYSIS.md, session 9): the reference
    measured the trips' wake-ups rather than the stack's limit, and Kizuna's ratios to it on
    SQLite with one worker were flattered about threefold."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.reader: sqlite3.Connection | None = None
        self.writer: Any = None
        # SQLite writes one transaction at a time: this process's writers take turns here
        # (as Kizuna's writer queue does) instead of meeting "database is locked".
        self.write_lock = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        # Kizuna's database is already in WAL mode (it persists in the file).
        self.reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        self.writer = await aiosqlite.connect(self.path, isolation_level=None)
        await self.writer.execute("PRAGMA busy_timeout=30000")
        await self.writer.execute("PRAGMA synchronous=NORMAL")
        async with self.write_lock:
            await self.writer.execute("BEGIN IMMEDIATE")
            for statement in scratch_ddl("INTEGER"):
                await self.writer.execute(statement)
            await self.writer.execute(
                "INSERT OR IGNORE INTO bench_ref_counters (id, likes) "
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "SELECT i, 0 FROM n",
                (COUNTER_ROWS,),
            )
            await self.writer.execute("COMMIT")

    async def like(self) -> int:
        post_id, member_id = next_pair()
        now = datetime.now(UTC).isoformat()
        async with self.write_lock:
            await self.writer.execute("BEGIN IMMEDIATE")
            try:
                await self.writer.execute(
                    "INSERT INTO bench_ref_likes (post_id, member_id, created_at) "
                    "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (post_id, member_id, now),
                )
                counter = post_id % COUNTER_ROWS + 1
                async with self.writer.execute(
                    "UPDATE bench_ref_counters SET likes = likes + 1 WHERE id = ? RETURNING likes",
                    (counter,),
                ) as cursor:
                    row = await cursor.fetchone()
                await self.writer.execute(
                    "UPDATE bench_ref_counters SET likes = likes + 1 WHERE id = ?",
                    ((counter + 1) % COUNTER_ROWS + 1,),
                )
                await self.writer.execute(
                    "INSERT INTO bench_ref_log (verb, actor_id, subject_id, created_at) "
                    "VALUES ('like.given', ?, ?, ?)",
                    (member_id, post_id, now),
                )
                await self.writer.execute("COMMIT")
            except BaseException:
                await self.writer.execute("ROLLBACK")
                raise
        return int(row[0]) if row else 0

    async def rows(self) -> list[tuple[Any, ...]]:
        assert self.reader is not None
        return [tuple(row) for row in self.reader.execute(QUERY).fetchall()]

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.writer is not None:
            for table in SCRATCH:
                await self.writer.execute(f"DROP TABLE IF EXISTS {table}")
            await self.writer.close()


class PostgresPool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        async with self.pool.acquire() as connection, connection.transaction():
            # Two workers start at once: one creates the tables, the other waits for it.
            await connection.execute("SELECT pg_advisory_xact_lock(7719)")
            for statement in scratch_ddl("BIGSERIAL"):
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO bench_ref_counters (id, likes) "
                "SELECT i, 0 FROM generate_series(1, $1::int) AS i ON CONFLICT DO NOTHING",
                COUNTER_ROWS,
            )

    async def rows(self) -> list[tuple[Any, ...]]:
        async with self.pool.acquire() as connection:
            return [tuple(row) for row in await connection.fetch(QUERY)]

    async def like(self) -> int:
        post_id, member_id = next_pair()
        now = datetime.now(UTC).isoformat()
        counter = post_id % COUNTER_ROWS + 1
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO bench_ref_likes (post_id, member_id, created_at) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                post_id,
                member_id,
                now,
            )
            likes = await connection.fetchval(
                "UPDATE bench_ref_counters SET likes = likes + 1 WHERE id = $1 RETURNING likes",
                counter,
            )
            await connection.execute(
                "UPDATE bench_ref_counters SET likes = likes + 1 WHERE id = $1",
                (counter + 1) % COUNTER_ROWS + 1,
            )
            await connection.execute(
                "INSERT INTO bench_ref_log (verb, actor_id, subject_id, created_at) "
                "VALUES ('like.given', $1, $2, $3)",
                member_id,
                post_id,
                now,
            )
        return int(likes or 0)

    async def close(self) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock(7719)")
            for table in SCRATCH:
                await connection.execute(f"DROP TABLE IF EXISTS {table}")
            await connection.execute("SELECT pg_advisory_unlock(7719)")
        await self.pool.close()


def open_pool(url: str) -> SqlitePool | PostgresPool:
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite"):
        return SqlitePool(rest[1:] if rest.startswith("/") else rest)
    return PostgresPool(f"postgresql://{rest}")


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    pool = open_pool(os.environ["BENCH_DATABASE_URL"])
    await pool.open()
    application.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes() -> HTMLResponse:
    rows = await app.state.pool.rows()
    return HTMLResponse(TEMPLATE.render(rows=rows))


@app.put("/like")
async def like() -> JSONResponse:
    return JSONResponse({"liked": True, "like_count": await app.state.pool.like()})
