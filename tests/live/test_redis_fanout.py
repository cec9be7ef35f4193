"""Two real server processes sharing one SQLite file and the local Redis: a reply posted
through one process reaches a WebSocket client connected to the other."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from app.accounts import service as accounts
from app.config import Settings
from app.db import Database
from app.models import Base
from app.pipeline import SESSION_COOKIE
from tests.factories import make_member
from tests.live.conftest import free_port
from tests.live.helpers import next_event, open_socket, subscribe
from tests.notifications.helpers import make_topic

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[tuple[Settings, Database]]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError):
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        await client.aclose()
    settings = Settings(
        env="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
        data_dir=tmp_path,
        # Each run gets its own secret, hence its own Redis channel: runs never hear each other.
        secret_key=f"fanout-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        redis_url=REDIS_URL,
        smtp_url="",
        base_url="http://127.0.0.1",
    )
    database = Database(settings)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield settings, database
    await database.dispose()


@pytest.fixture
def servers(shared: tuple[Settings, Database]) -> Iterator[list[str]]:
    settings, _database = shared
    hosts: list[str] = []
    processes: list[subprocess.Popen[bytes]] = []
    for _ in range(2):
        port = free_port()
        env = {
            **os.environ,
            "KIZUNA_ENV": "test",
            "KIZUNA_DATABASE_URL": settings.database_url,
            "KIZUNA_DATA_DIR": str(settings.data_dir),
            "KIZUNA_SECRET_KEY": settings.secret_key,
            "KIZUNA_REDIS_URL": REDIS_URL,
            "KIZUNA_SMTP_URL": "",
            "KIZUNA_BASE_URL": f"http://127.0.0.1:{port}",
            "KIZUNA_LOG_LEVEL": "warning",
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        hosts.append(f"127.0.0.1:{port}")
    yield hosts
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_ready(host: str) -> None:
    # Importing the whole app takes a while on a busy machine; give each server a minute and a half.
    deadline = asyncio.get_running_loop().time() + 90
    async with httpx.AsyncClient() as http:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await http.get(f"http://{host}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"server {host} did not start")


async def test_a_reply_through_one_process_reaches_a_socket_on_the_other(shared, servers):
    _settings, database = shared
    first, second = servers
    await asyncio.gather(wait_ready(first), wait_ready(second))
    author = await make_member(database, name="Aiko", locale="en")
    replier = await make_member(database, name="Ken", locale="en")
    topic = await make_topic(database, author, title="Shared over Redis")

    async with database.transaction() as session:
        author_token = (
            await accounts.start_session(
                session, author, previous_token=None, ip="127.0.0.1", user_agent="pytest"
            )
        ).token
        replier_token = (
            await accounts.start_session(
                session, replier, previous_token=None, ip="127.0.0.1", user_agent="pytest"
            )
        ).token

    async with open_socket(second, author_token) as socket:
        assert (await next_event(socket))["type"] == "hello"
        assert (await subscribe(socket, f"topic:{topic.id}"))["type"] == "subscribed"

        async with httpx.AsyncClient(
            base_url=f"http://{first}", headers={"Cookie": f"{SESSION_COOKIE}={replier_token}"}
        ) as http:
            page = await http.get("/")
            match = _META_CSRF.search(page.text)
            assert match
            posted = await http.post(
                f"/t/{topic.id}/reply",
                data={"body": "Agreed, from the other process!", "csrf_token": match.group(1)},
            )
            assert posted.status_code == 303, posted.text
            assert posted.headers["location"].startswith(f"/t/{topic.id}")

        events = [await next_event(socket), await next_event(socket)]
        by_type = {event["type"]: event for event in events}
        assert by_type["notifications"]["unread"] == 1
        assert by_type["notifications"]["items"][0]["text"] == "Ken replied in Shared over Redis"
        assert by_type["post.created"]["topic_id"] == topic.id
