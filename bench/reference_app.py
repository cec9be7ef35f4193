"""The reference page: the stack's practical limit, measured beside Kizuna in the same run.

The shape of TechEmpower's "Fortunes" test: a bare FastAPI async route reads 20 rows with the
raw database driver (aiosqlite or asyncpg, no ORM) and renders them in a Jinja2 table. It reads
the same database Kizuna serves (the 20 most recently active topics, through the index Kizuna's
own list uses), so the ratio of a Kizuna page to this one is what the app costs on top of the
driver, the template engine and the server.

Run: ``BENCH_DATABASE_URL=... uvicorn bench.reference_app:app``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
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


class SqlitePool:
    """A few aiosqlite connections handed out in turn (one is one thread; a few overlap)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.idle: asyncio.Queue[Any] = asyncio.Queue()

    async def open(self) -> None:
        import aiosqlite

        for _ in range(POOL_SIZE):
            # Kizuna's database is already in WAL mode (it persists in the file).
            self.idle.put_nowait(await aiosqlite.connect(self.path))

    async def rows(self) -> list[tuple[Any, ...]]:
        connection = await self.idle.get()
        try:
            async with connection.execute(QUERY) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


class PostgresPool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def rows(self) -> list[tuple[Any, ...]]:
        async with self.pool.acquire() as connection:
            return [tuple(row) for row in await connection.fetch(QUERY)]

    async def close(self) -> None:
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
