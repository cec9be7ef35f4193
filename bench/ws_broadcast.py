"""Benchmark: 1,000 WebSocket clients on one server process receive a broadcast.

Starts `kizuna serve` (uvicorn, websockets-sansio) on a throw-away SQLite database with
KIZUNA_REDIS_URL pointing at a local Redis, connects N signed-in clients that subscribe to the
leaderboard channel, then publishes broadcasts into Redis from this process, as another server
process would. Each client notes when each broadcast arrives; the script prints the p50/p99
delivery time (publish to receipt, all clients, all rounds), the time until the last client had
each broadcast, and the server's resident memory before and after the clients connected.

    .venv/bin/python bench/ws_broadcast.py [--clients 1000] [--rounds 20]

Needs Redis on 127.0.0.1:6379 (or --redis URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.accounts import service as accounts  # noqa: E402
from app.accounts.schemas import SignUpIn  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import Database  # noqa: E402
from app.live.broker import LEADERBOARD, RedisBroker, redis_channel  # noqa: E402
from app.models import Base, Role  # noqa: E402
from app.pipeline import SESSION_COOKIE  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def prepare(settings: Settings, members: int) -> list[str]:
    """The schema, and one signed-in session per member (clients share them round-robin)."""
    database = Database(settings)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    tokens = []
    async with database.transaction() as session:
        for number in range(members):
            member = await accounts.create_member(
                session,
                SignUpIn(
                    email=f"bench{number}@example.com",
                    display_name=f"Bench {number}",
                    password="bench-password-long-enough",
                ),
                role=Role.member,
                verified=True,
            )
            new = await accounts.start_session(
                session, member, previous_token=None, ip="127.0.0.1", user_agent="bench"
            )
            tokens.append(new.token)
    await database.dispose()
    return tokens


async def wait_ready(host: str) -> None:
    deadline = asyncio.get_running_loop().time() + 120
    async with httpx.AsyncClient() as http:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await http.get(f"http://{host}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server on {host} did not start")


class Client:
    def __init__(self, socket: ClientConnection, rounds: int) -> None:
        self.socket = socket
        self.latencies: list[float] = []
        self.done = [asyncio.Event() for _ in range(rounds)]

    async def read(self) -> None:
        async for raw in self.socket:
            event = json.loads(raw)
            if event.get("type") == "bench":
                self.latencies.append((time.time_ns() - event["sent"]) / 1e6)
                self.done[event["round"]].set()


async def open_client(host: str, token: str, rounds: int) -> Client:
    socket = await connect(
        f"ws://{host}/ws",
        origin=f"http://{host}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"{SESSION_COOKIE}={token}"},
        open_timeout=60,
        max_queue=None,
    )
    client = Client(socket, rounds)
    assert json.loads(await socket.recv())["type"] == "hello"
    await socket.send(json.dumps({"op": "subscribe", "channel": LEADERBOARD}))
    assert json.loads(await socket.recv())["type"] == "subscribed"
    return client


async def run(clients: int, rounds: int, redis_url: str) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, clients * 2 + 256)), hard))
    workdir = Path(tempfile.mkdtemp(prefix="kizuna-wsbench-"))
    port = free_port()
    host = f"127.0.0.1:{port}"
    settings = Settings(
        env="test",
        database_url=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        data_dir=workdir,
        secret_key=f"bench-{uuid.uuid4().hex}-{uuid.uuid4().hex}",
        redis_url=redis_url,
        base_url=f"http://{host}",
    )
    tokens = await prepare(settings, min(clients, 50))
    env = {
        **os.environ,
        "KIZUNA_ENV": "test",
        "KIZUNA_DATABASE_URL": settings.database_url,
        "KIZUNA_DATA_DIR": str(workdir),
        "KIZUNA_SECRET_KEY": settings.secret_key,
        "KIZUNA_REDIS_URL": redis_url,
        "KIZUNA_BASE_URL": settings.base_url,
        "KIZUNA_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
    )
    publisher = RedisBroker(redis_url, redis_channel(settings))
    try:
        await wait_ready(host)
        idle_rss = rss_mib(server.pid)
        started = time.perf_counter()
        connected: list[Client] = []
        for first in range(0, clients, 100):
            batch = range(first, min(first + 100, clients))
            connected += await asyncio.gather(
                *(open_client(host, tokens[i % len(tokens)], rounds) for i in batch)
            )
        connect_seconds = time.perf_counter() - started
        loaded_rss = rss_mib(server.pid)
        readers = [asyncio.create_task(client.read()) for client in connected]

        completion: list[float] = []
        for number in range(rounds):
            sent = time.time_ns()
            await publisher.publish(LEADERBOARD, {"type": "bench", "round": number, "sent": sent})
            await asyncio.wait_for(
                asyncio.gather(*(client.done[number].wait() for client in connected)), 60
            )
            completion.append((time.time_ns() - sent) / 1e6)
        final_rss = rss_mib(server.pid)

        latencies = [value for client in connected for value in client.latencies]
        print(f"clients: {len(connected)} (connected in {connect_seconds:.1f} s), rounds: {rounds}")
        print(f"deliveries: {len(latencies)}")
        print(
            f"delivery ms  p50 {percentile(latencies, 0.50):7.1f}   "
            f"p99 {percentile(latencies, 0.99):7.1f}   max {max(latencies):7.1f}"
        )
        print(
            f"last client  p50 {statistics.median(completion):7.1f} ms per broadcast "
            f"(all {len(connected)} clients have it)"
        )
        print(
            f"server RSS   idle {idle_rss:.0f} MiB   with clients {loaded_rss:.0f} MiB   "
            f"after broadcasts {final_rss:.0f} MiB   "
            f"(~{(loaded_rss - idle_rss) * 1024 / max(1, len(connected)):.0f} KiB per client)"
        )
        for task in readers:
            task.cancel()
        await asyncio.gather(*(client.socket.close() for client in connected))
    finally:
        await publisher.stop()
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.rounds, args.redis))


if __name__ == "__main__":
    main()
