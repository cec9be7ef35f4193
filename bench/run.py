#!/usr/bin/env python3
"""The benchmark harness: one command, every page, against the stack's own limit.

    .venv/bin/python bench/run.py                       # SQLite, 10% scale, 1 and 2 workers
    .venv/bin/python bench/run.py --databases sqlite,postgresql --scale 1 --duration 10
    .venv/bin/python bench/run.py --smoke               # what `make test` runs (seconds)

For each database it builds a benchmark community (``kizuna bench-data``), creates API tokens
and signed-in sessions straight in the database, then for 1 and for 2 worker processes starts
``kizuna serve`` and the reference page (bench/reference_app.py, the "Fortunes" shape) on free
loopback ports, warms up, and loads every page with ``wrk`` at 16 connections (or, where wrk is
not installed, a small built-in asyncio/httpx load generator). It reports requests/s, p50/p99
latency, errors (non-2xx/3xx answers and socket errors), peak server memory (the server's whole
process tree, sampled from /proc), single-request latency, and each page's ratio to the
reference page measured in the same run; and writes all of it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONNECTIONS = 16
# Members whose API tokens send the write loads, in turn. An established member may reply
# once every 5 s (app.moderation.limits), so the pool caps the replies a load can send
# without a 429 at WRITERS / 5 a second: 1,000 writers (sessions 1-34) allowed 200, which a
# faster machine's 2 workers passed (234/s, 501 refused, session 35).
WRITERS = 3000
LOADERS = {"wrk": "wrk", "builtin": "built-in asyncio/httpx loader (wrk not installed)"}
DEFAULT_PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
REQUESTS_LUA = BENCH_DIR / "requests.lua"
VISITORS_LUA = BENCH_DIR / "visitors.lua"
ANALYSIS = BENCH_DIR / "ANALYSIS.md"
ANON_COOKIE = "kizuna_anon"
SESSION_COOKIE = "kizuna_session"
SMOKE_COUNTS = {
    "members": 60,
    "topics": 16,
    "posts": 400,
    "likes": 600,
    "activities": 2500,
    "nps": 100,
}
# Where the operator dashboard may live; the first path that answers is measured.
DASHBOARD_CANDIDATES = ("/ops", "/analytics", "/operator")
# The operator pages measured beside the dashboard, with its target (key, title, path).
OPERATOR_PAGES = (
    ("retention", "operator: retention (cohorts, churn)", "/ops/retention"),
    ("scores", "operator: scores (deciles, RFM)", "/ops/scores"),
    ("ambassadors", "operator: ambassadors", "/ops/ambassadors"),
    ("ops_members", "operator: member list", "/ops/members"),
)


# --- pages ----------------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    title: str
    write: bool = False
    route: str = ""  # the route template that must exist (empty: always there)
    path: str = ""
    cookie: str = ""
    requests_file: Path | None = None
    note: str = ""
    status: int | None = None
    # Each request a new anonymous visitor (a browser name of its own): the page's view is
    # written for each, where the other anonymous pages are one returning visitor.
    new_visitors: bool = False

    @property
    def available(self) -> bool:
        return bool(self.path) or self.requests_file is not None


@dataclass
class Result:
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    bytes_per_request: float = 0.0
    peak_rss_mb: float = 0.0
    peak_process_mb: float = 0.0
    single_ms: float | None = None
    status: int | None = None  # the answer to one request before the load
    note: str = ""
    # Write pages: members whose scores still awaited their refresh when the load ended,
    # and how long after it the last of them was refreshed (None: not within the limit).
    score_backlog: int | None = None
    backlog_cleared_s: float | None = None


@dataclass
class Run:
    database: str
    workers: int
    results: dict[str, Result] = field(default_factory=dict)
    reference: list[Result] = field(default_factory=list)
    # The write reference (bench/reference_app.py's PUT /like): the stack's limit for a
    # transaction of a like's shape, raw driver, no app.
    reference_write: Result | None = None
    server_log_problems: list[str] = field(default_factory=list)
    # Before each load: the seconds waited for a quiet machine (None: still busy at the limit).
    quiet_waits: dict[str, float | None] = field(default_factory=dict)
    # The writers' first visits of the day before the write loads: (answered, sent, seconds).
    first_visits: tuple[int, int, float] | None = None
    # Seconds of the VACUUM run in autovacuum's place (PostgreSQL with autovacuum off).
    vacuum_seconds: float | None = None

    @property
    def reference_rps(self) -> float:
        values = [result.rps for result in self.reference if result.rps > 0]
        return statistics.mean(values) if values else 0.0

    @property
    def reference_write_rps(self) -> float:
        return self.reference_write.rps if self.reference_write else 0.0


@dataclass
class DatabaseReport:
    name: str
    url: str
    scale: str
    generation_seconds: float | None
    generation_output: list[str]
    runs: list[Run] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    small_topic: dict[str, float] = field(default_factory=dict)
    pages: list[Page] = field(default_factory=list)
    recompute: str = ""
    recompute_seconds: float | None = None


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC).strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KIZUNA_") or key == "KIZUNA_TEST_DATABASE_URL"
    }
    env.update(
        {
            "KIZUNA_DATABASE_URL": url,
            "KIZUNA_ENV": "production",
            "KIZUNA_SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
            "KIZUNA_LOG_LEVEL": "warning",
            "KIZUNA_SMTP_URL": "",
            "KIZUNA_REDIS_URL": "",
            "KIZUNA_BASE_URL": "http://127.0.0.1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def serve_command(port: int, workers: int = 1) -> list[str]:
    """`kizuna serve` on a loopback port, as the server runs in production."""
    return [
        *(sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), "--workers", str(workers)),
    ]


def kizuna(args: Sequence[str], env: dict[str, str], *, stream: bool = False) -> list[str]:
    command = [sys.executable, "-m", "app.cli", *args]
    if not stream:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"`kizuna {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout.splitlines()
    lines: list[str] = []
    with subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print("    " + line.rstrip(), flush=True)
            lines.append(line.rstrip())
    if process.returncode != 0:
        raise SystemExit(f"`kizuna {' '.join(args)}` failed (exit {process.returncode})")
    return lines


class Server:
    """A server process group we started; stopped by its own process-group id."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.log_path = Path(env.get("BENCH_LOG_DIR", "/tmp")) / f"kizuna-bench-{name}-{port}.log"
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as answer:
                    if answer.status < 500:
                        return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer within {timeout:.0f} s")

    def rss_by_process_mb(self) -> list[float]:
        """Resident memory of the server and each of its descendants (the worker processes)."""
        sizes = []
        for pid in process_tree(self.process.pid):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes

    def rss_mb(self) -> float:
        """Resident memory of the server and all its descendants."""
        return sum(self.rss_by_process_mb())

    def problems(self) -> list[str]:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace")
        found = []
        for needle in ("database is locked", "Traceback", "deadlock"):
            count = text.count(needle)
            if count:
                found.append(f"{self.name}: {count} x {needle!r} in {self.log_path}")
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log_file.close()


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


class RssSampler:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0.0  # the whole process tree
        self.peak_process = 0.0  # the largest single process (a worker)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        sizes = self.server.rss_by_process_mb()
        self.peak = max(self.peak, sum(sizes))
        self.peak_process = max(self.peak_process, max(sizes, default=0.0))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.25)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


# --- load generators ------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        return 0.0
    return float(match.group(1)) * _UNITS[match.group(2)]


def _bytes(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)([KMGT]?B)", text.strip())
    if not match:
        return 0.0
    scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}[match.group(2)]
    return float(match.group(1)) * scale


def parse_wrk(output: str) -> Result:
    result = Result()
    for line in output.splitlines():
        parts = line.split()
        if line.strip().startswith("50%") and len(parts) == 2:
            result.p50_ms = _ms(parts[1])
        elif line.strip().startswith("99%") and len(parts) == 2:
            result.p99_ms = _ms(parts[1])
        elif "requests in" in line:
            result.requests = int(parts[0])
            total = _bytes(parts[-2]) if parts[-1] == "read" else 0.0
            result.bytes_per_request = total / result.requests if result.requests else 0.0
        elif line.startswith("Requests/sec:"):
            result.rps = float(parts[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            result.non_2xx = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            result.socket_errors = sum(int(re.sub(r"\D", "", part)) for part in parts[3::2])
    result.errors = result.non_2xx + result.socket_errors
    return result


def run_wrk(url: str, page: Page, duration: float) -> Result:
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if page.cookie:
        command += ["-H", f"Cookie: {page.cookie}"]
    if page.requests_file is not None:
        command += ["-s", str(REQUESTS_LUA), url, "--", str(page.requests_file), "2"]
    elif page.new_visitors:
        command += ["-s", str(VISITORS_LUA), url, "--", page.path, "2"]
    else:
        command.append(url + page.path)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    result = parse_wrk(done.stdout)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        result.note = lines[-1] if lines else f"wrk exited {done.returncode}"
    elif result.requests == 0:
        result.note = "no request completed within the run"
    return result


def read_requests(path: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    for line in path.read_text().splitlines():
        method, target, token, body = line.split("\t", 3)
        rows.append((method, target, token, body))
    return rows


async def _builtin(base: str, page: Page, duration: float, connections: int) -> Result:
    import httpx

    requests = read_requests(page.requests_file) if page.requests_file is not None else None
    latencies: list[float] = []
    counters = {"next": 0, "bad": 0, "socket": 0, "bytes": 0}
    headers = {"Cookie": page.cookie} if page.cookie else {}
    deadline = time.monotonic() + duration

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            index = counters["next"]
            counters["next"] += 1
            started = time.perf_counter()
            try:
                if requests is None:
                    agent = {"User-Agent": f"kizuna-bench-visitor/{index}"}
                    answer = await client.get(
                        page.path, headers={**headers, **agent} if page.new_visitors else headers
                    )
                else:
                    method, target, token, body = requests[index % len(requests)]
                    answer = await client.request(
                        method,
                        target,
                        content=body.encode() if body else None,
                        headers={
                            **headers,
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
            except httpx.HTTPError:
                counters["socket"] += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            counters["bytes"] += len(answer.content)
            if answer.status_code >= 400:
                counters["bad"] += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    elapsed = time.monotonic() - started
    latencies.sort()
    result = Result(
        rps=len(latencies) / elapsed if elapsed else 0.0,
        requests=len(latencies),
        non_2xx=counters["bad"],
        socket_errors=counters["socket"],
    )
    result.errors = result.non_2xx + result.socket_errors
    if latencies:
        result.p50_ms = latencies[len(latencies) // 2]
        result.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        result.bytes_per_request = counters["bytes"] / len(latencies)
    return result


def run_builtin(base: str, page: Page, duration: float) -> Result:
    return asyncio.run(_builtin(base, page, duration, CONNECTIONS))


async def _first_visits(base: str, tokens: Sequence[str]) -> int:
    """Each writer's first request of the day, before the write loads. A member's first
    request of a day records the day's visit (an activity with its points and rollups, in a
    transaction of its own) and makes them one of the day's active members; a member likes,
    replies or accepts from a page they have just loaded, so a write is almost never that
    first request. Without this, nearly every write of a 10-second load was its member's
    first of the day and paid for both (bench/ANALYSIS.md, session 9). Returns how many
    answered 200."""
    import httpx

    queue = list(tokens)
    answered = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal answered
        while queue:
            token = queue.pop()
            answer = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            answered += answer.status_code == 200

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONNECTIONS)))
    return answered


def _first_visits_text(visits: tuple[int, int, float]) -> str:
    answered, sent, seconds = visits
    rate = f"{answered / seconds:.0f}/s" if seconds > 0 else "-"
    return f"{answered} of {sent} answered in {seconds:.1f} s ({rate})"


def single_request_ms(base: str, page: Page, count: int) -> float | None:
    """Median time of one request at a time: the page's own server time plus loopback."""
    times = request_times(base, page, count)
    return statistics.median(times) if times else None


def request_times(base: str, page: Page, count: int) -> list[float] | None:
    """The times (ms) of ``count`` requests made one at a time (None on an error)."""
    import urllib.error
    import urllib.request

    times = []
    for _ in range(count):
        request = urllib.request.Request(base + page.path)
        if page.cookie:
            request.add_header("Cookie", page.cookie)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        except (urllib.error.HTTPError, OSError):
            return None  # an error or a stuck server: reported as "-" beside the load result
        times.append((time.perf_counter() - started) * 1000)
    return times


def status_of(base: str, page: Page) -> int:
    import urllib.error
    import urllib.request

    if page.requests_file is not None:
        method, target, token, body = read_requests(page.requests_file)[-1]
        request = urllib.request.Request(
            base + target,
            data=body.encode() if body else None,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    else:
        request = urllib.request.Request(base + page.path)
        if page.cookie:
            request.add_header("Cookie", page.cookie)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 599  # no answer within 30 s


# --- databases and fixtures -----------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


async def _create_all(url: str) -> None:
    from app.db import create_engine_unpooled
    from app.models import Base

    engine = create_engine_unpooled(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


async def _pg_admin(
    server_url: str, statements: Sequence[str], *, database: str | None = "postgres"
) -> list[Any]:
    """Each statement's rows, run in turn on one connection to ``database`` (None: the one
    the URL names) of the server."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    dsn = url.render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        return [await connection.fetch(statement) for statement in statements]
    finally:
        await connection.close()


def pg_database_url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _member_count(url: str) -> int:
    from sqlalchemy import text

    from app.db import create_engine_unpooled

    engine = create_engine_unpooled(url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(text("SELECT count(*) FROM members"))).scalar_one()
            )
    except Exception:
        return 0
    finally:
        await engine.dispose()


def _upgrade_reused(url: str, args: argparse.Namespace) -> None:
    """A reused database gets the migrations added since it was filled, as an upgraded
    install would (an index added for a page is then measured with it)."""
    if args.schema == "migrate":
        kizuna(["migrate", "upgrade"], base_env(url))


def prepare_database(
    kind: str, args: argparse.Namespace, scale_args: list[str], tag: str
) -> tuple[str, float | None, list[str]]:
    """A database filled by ``kizuna bench-data`` (reused when asked and already filled)."""
    if kind == "sqlite":
        path = args.data_dir / f"bench-{tag}.db"
        url = sqlite_url(path)
        if args.reuse and path.exists() and asyncio.run(_member_count(url)) > 0:
            log(f"reusing {path}")
            _upgrade_reused(url, args)
            return url, None, []
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        name = f"kizuna_bench_{tag}".replace("-", "_").replace(".", "_")
        url = pg_database_url(args.pg_url, name)
        if args.reuse and asyncio.run(_member_count(url)) > 0:
            log(f"reusing PostgreSQL database {name}")
            _upgrade_reused(url, args)
            return url, None, []
        asyncio.run(
            _pg_admin(
                args.pg_url,
                [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'],
            )
        )
    env = base_env(url)
    if args.schema == "migrate":
        log("migrating the schema")
        kizuna(["migrate", "upgrade"], env)
    else:
        asyncio.run(_create_all(url))
    log(f"generating data: kizuna bench-data {' '.join(scale_args)}")
    started = time.monotonic()
    output = kizuna(["bench-data", *scale_args], env, stream=True)
    seconds = time.monotonic() - started
    # The generated community has open surveys its members were never told about; a server's
    # first scheduler tick would announce them to everyone in the middle of the measurements.
    # A community that has been running announced them long ago: do it now, before timing.
    log("announcing what the scheduler would have announced: kizuna tick")
    output += kizuna(["tick"], env)
    return url, seconds, output


async def _vacuum_if_autovacuum_is_off(url: str) -> float | None:
    """On a PostgreSQL server whose autovacuum is off (CI machines may be set so), vacuum the
    whole database as autovacuum would have before anyone measured, and return how long it
    took (None: SQLite, or autovacuum on). The tick announces the surveys to every member
    and the writers' first visits update thousands of members after bench-data's own VACUUM,
    and until a vacuum passes, each of those pages is visited by reads meant to use an index
    alone: the scores page took 288 ms at full scale before and 181 ms after (session 37)."""
    if not url.startswith("postgresql"):
        return None
    [[(autovacuum,)]] = await _pg_admin(url, ["SHOW autovacuum"], database=None)
    if autovacuum == "on":
        return None
    started = time.perf_counter()
    await _pg_admin(url, ["VACUUM (ANALYZE)"], database=None)
    return time.perf_counter() - started


def drop_pg_database(args: argparse.Namespace, url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    asyncio.run(_pg_admin(args.pg_url, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


@dataclass
class Fixtures:
    operator_cookie: str
    member_cookie: str
    anon_cookie: str
    category_slug: str
    topic_id: int
    deep_topic_id: int
    deep_cursor: int
    question_id: int
    profile_handle: str
    tokens: list[tuple[int, str]]
    like_posts: list[int]
    spread_posts: list[int]
    post_authors: dict[int, int]
    liked: set[tuple[int, int]]
    reply_topics: list[int]
    accept_plan: list[tuple[str, list[int]]]
    # Where each like pattern (spread, hot) is in its walk over (member, post) pairs.
    like_cursors: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})


async def _fixtures(url: str, token_count: int) -> Fixtures:
    from sqlalchemy import text

    from app.db import create_engine_unpooled

    engine = create_engine_unpooled(url)
    now = datetime.now(UTC)
    sqlite = url.startswith("sqlite")

    def stamp(moment: datetime) -> Any:
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment

    async with engine.begin() as db:

        async def rows(sql: str, **params: Any) -> list[Any]:
            return list((await db.execute(text(sql), params)).all())

        async def session_for(member_id: int) -> str:
            token = secrets.token_urlsafe(32)
            await db.execute(
                text(
                    "INSERT INTO auth_sessions (token_hash, member_id, created_at, last_seen_at, "
                    "expires_at, ip, user_agent) VALUES (:h, :m, :n, :n, :e, '127.0.0.1', 'bench')"
                ),
                {
                    "h": sha256(token.encode()).hexdigest(),
                    "m": member_id,
                    "n": stamp(now),
                    "e": stamp(now + timedelta(days=7)),
                },
            )
            return f"{SESSION_COOKIE}={token}"

        async def api_token(member_id: int) -> str:
            token = "kzb_" + secrets.token_urlsafe(30)
            await db.execute(
                text(
                    "INSERT INTO api_tokens (member_id, name, token_hash, prefix, scopes, "
                    "created_at, last_used_at) VALUES (:m, 'bench', :h, :p, 'read write', :n, :n)"
                ),
                {
                    "m": member_id,
                    "h": sha256(token.encode()).hexdigest(),
                    "p": token[:8],
                    "n": stamp(now),
                },
            )
            return token

        operator = (
            await rows("SELECT id FROM members WHERE role IN ('operator', 'admin') ORDER BY id")
        )[0][0]
        busiest = await rows(
            "SELECT author_id, count(*) AS n FROM topics GROUP BY author_id ORDER BY n DESC LIMIT 1"
        )
        member = busiest[0][0]
        handle = (await rows("SELECT handle FROM members WHERE id = :m", m=member))[0][0]
        category = (
            await rows(
                "SELECT slug FROM categories WHERE kind = 'discussion' ORDER BY topic_count DESC"
            )
        )[0][0]
        # A discussion: its pages read in order, so a post number is a cursor (a question's
        # cursor is the answers' sort key instead).
        deep = (
            await rows(
                "SELECT id, post_count FROM topics WHERE kind = 'discussion' "
                "ORDER BY post_count DESC LIMIT 1"
            )
        )[0]
        discussions = await rows(
            "SELECT id FROM topics WHERE kind = 'discussion' AND post_count >= 20 "
            "ORDER BY post_count, id"
        ) or await rows("SELECT id FROM topics WHERE kind = 'discussion' ORDER BY post_count DESC")
        topic = discussions[len(discussions) // 2][0]
        questions = await rows(
            "SELECT t.id, t.author_id FROM topics t "
            "WHERE t.kind = 'question' AND t.reply_count >= 2 "
            "ORDER BY t.reply_count, t.id"
        )
        question = (
            questions[len(questions) // 2][0]
            if questions
            else (await rows("SELECT id FROM topics ORDER BY id LIMIT 1"))[0][0]
        )

        # Write paths: a pool of members with tokens, posts they have not liked yet, topics to
        # reply to, and askers who switch their accepted answer back and forth.
        # Established members: a member who joined in the last few days may post only every
        # 30 s (app.moderation.limits), and the replies come round to a writer again sooner.
        pool = [
            row[0]
            for row in await rows(
                "SELECT id FROM members WHERE role = 'member' AND created_at < :joined "
                "ORDER BY id DESC LIMIT :n",
                joined=stamp(now - timedelta(days=30)),
                n=token_count,
            )
        ]
        tokens = [(member_id, await api_token(member_id)) for member_id in pool]
        pool_set = set(pool)
        candidates = await rows(
            "SELECT id, author_id, topic_id FROM posts WHERE deleted_at IS NULL "
            "ORDER BY id DESC LIMIT 20000"
        )
        post_authors = {int(pid): int(author) for pid, author, _topic in candidates}
        like_posts = [pid for pid, author in post_authors.items() if author not in pool_set]
        # The same posts, one topic after another (a topic's posts have neighbouring ids):
        # likes in flight then meet in a topic as often as in a community, not every time.
        topic_of = {int(pid): int(topic_id) for pid, _author, topic_id in candidates}
        by_topic: dict[int, list[int]] = {}
        for pid in like_posts:
            by_topic.setdefault(topic_of[pid], []).append(pid)
        spread_posts = [
            pid
            for column in itertools.zip_longest(*by_topic.values())
            for pid in column
            if pid is not None
        ]
        liked: set[tuple[int, int]] = set()
        if like_posts:
            low = min(like_posts)
            for pid, mid in await rows(
                "SELECT post_id, member_id FROM post_likes WHERE post_id >= :low", low=low
            ):
                if mid in pool_set:
                    liked.add((int(mid), int(pid)))
        reply_topics = [
            row[0]
            for row in await rows(
                "SELECT id FROM topics WHERE locked = :f AND deleted_at IS NULL "
                "ORDER BY last_posted_at DESC LIMIT 200",
                f=False,
            )
        ]
        accept_plan: list[tuple[str, list[int]]] = []
        askers_seen: set[int] = set()
        for topic_id, asker in questions[-400:]:
            if asker in askers_seen:
                continue
            answers = [
                row[0]
                for row in await rows(
                    "SELECT id FROM posts WHERE topic_id = :t AND number > 1 AND author_id != :a "
                    "AND deleted_at IS NULL ORDER BY number LIMIT 2",
                    t=topic_id,
                    a=asker,
                )
            ]
            if len(answers) == 2:
                askers_seen.add(asker)
                accept_plan.append((await api_token(asker), answers))
            if len(accept_plan) >= 200:
                break
        # The benchmark measures steady browsing: the signed-in members have already made
        # today's first visit (that once-a-day write is not what a page costs). See
        # bench/ANALYSIS.md for what a burst of first visits does to the connection pool.
        from app.kit.clock import community_day

        today = community_day()
        await db.execute(
            text("UPDATE members SET last_visit_day = :d, last_seen_at = :n WHERE id IN (:a, :b)"),
            {
                "d": today.isoformat() if sqlite else today,
                "n": stamp(now),
                "a": operator,
                "b": member,
            },
        )
        fixtures = Fixtures(
            operator_cookie=await session_for(operator),
            member_cookie=await session_for(member),
            anon_cookie=f"{ANON_COOKIE}={secrets.token_urlsafe(16)}",
            category_slug=category,
            topic_id=int(topic),
            deep_topic_id=int(deep[0]),
            deep_cursor=max(1, int(deep[1]) * 3 // 4),
            question_id=int(question),
            profile_handle=handle,
            tokens=tokens,
            like_posts=like_posts,
            spread_posts=spread_posts,
            post_authors=post_authors,
            liked=liked,
            reply_topics=[int(t) for t in reply_topics],
            accept_plan=accept_plan,
        )
    await engine.dispose()
    return fixtures


def like_requests(fixtures: Fixtures, count: int) -> Iterator[tuple[str, str, str, str]]:
    """Likes as a community gives them: each request likes another post, in another topic
    (by another author, mostly), than the ones before it, so the 16 in flight touch 16
    posts and topics."""
    return _likes(fixtures, count, hot=False)


def hot_like_requests(fixtures: Fixtures, count: int) -> Iterator[tuple[str, str, str, str]]:
    """A post going viral: the members like one post after another, all at once, so every
    request in flight waits for the same post, topic, author and notification rows."""
    return _likes(fixtures, count, hot=True)


def _likes(fixtures: Fixtures, count: int, *, hot: bool) -> Iterator[tuple[str, str, str, str]]:
    """Fresh likes only: each (member, post) pair is used once across the whole run, by
    either pattern."""
    tokens = fixtures.tokens
    posts = fixtures.like_posts if hot else fixtures.spread_posts
    made = 0
    while made < count and fixtures.like_cursors[hot] < len(tokens) * len(posts):
        index = fixtures.like_cursors[hot]
        fixtures.like_cursors[hot] += 1
        # Members take turns either way (a token's requests stay under its rate limit).
        member_id, token = tokens[index % len(tokens)]
        turn = index // len(tokens)
        if hot:
            post_id = posts[turn % len(posts)]
        else:
            # Each member of a turn likes the next post, in another topic (still a fresh pair
            # every time).
            post_id = posts[(turn + index % len(tokens)) % len(posts)]
        if (member_id, post_id) in fixtures.liked:
            continue
        fixtures.liked.add((member_id, post_id))
        made += 1
        yield ("PUT", f"/api/v1/posts/{post_id}/like", token, "")


REPLY_TEXTS = (
    "ベンチマークからの返信です。新商品イベント、楽しみにしています！",
    "A reply from the benchmark: thanks for sharing, this helped me a lot.",
)


def reply_requests(fixtures: Fixtures, count: int) -> Iterator[tuple[str, str, str, str]]:
    tokens, topics = fixtures.tokens, fixtures.reply_topics
    for index in range(count):
        _member, token = tokens[index % len(tokens)]
        topic = topics[index % len(topics)]
        body = json.dumps({"body": f"{REPLY_TEXTS[index % 2]} ({index})"}, ensure_ascii=False)
        yield ("POST", f"/api/v1/topics/{topic}/posts", token, body)


def accept_requests(fixtures: Fixtures, count: int) -> Iterator[tuple[str, str, str, str]]:
    plan = fixtures.accept_plan
    for index in range(count):
        token, answers = plan[index % len(plan)]
        answer = answers[(index // len(plan)) % 2]
        yield ("PUT", f"/api/v1/posts/{answer}/accept", token, "")


def write_requests(path: Path, rows: Iterator[tuple[str, str, str, str]]) -> Path | None:
    lines = ["\t".join(row) for row in rows]
    if not lines:
        return None
    path.write_text("\n".join(lines) + "\n")
    return path


# --- the pages --------------------------------------------------------------------------------


# The write pages: key, title, route, and the requests they send.
WRITES: list[tuple[str, str, str, str, Callable[[Fixtures, int], Iterator[Any]]]] = [
    ("reply", "write: reply", "POST", "/api/v1/topics/{topic_id}/posts", reply_requests),
    ("like", "write: like (with points)", "PUT", "/api/v1/posts/{post_id}/like", like_requests),
    (
        "like_hot",
        "write: likes on one post at once",
        "PUT",
        "/api/v1/posts/{post_id}/like",
        hot_like_requests,
    ),
    ("accept", "write: answer accept", "PUT", "/api/v1/posts/{post_id}/accept", accept_requests),
]


def build_pages(fixtures: Fixtures) -> list[Page]:
    """Every page and write path of the benchmark. Whether each exists in this version of the
    app is found out by asking the running server (see :func:`probe`)."""
    from app.benchdata import TAGS

    anon = fixtures.anon_cookie
    pages = [
        Page("home", "home", route="/", path="/", cookie=anon),
        Page("categories", "category list", route="/categories", path="/categories", cookie=anon),
        Page(
            "topic_list",
            "topic list (category)",
            route="/c/{slug}",
            path=f"/c/{fixtures.category_slug}",
            cookie=anon,
        ),
        Page(
            "tag_list",
            "topic list (tag)",
            route="/tags/{name}",
            path=f"/tags/{quote(TAGS[0])}",
            cookie=anon,
        ),
        Page(
            "top_year",
            "top topics of the year",
            route="/?sort=top&period=year",
            path="/?sort=top&period=year",
            cookie=anon,
        ),
        Page(
            "unanswered",
            "unanswered questions",
            route="/?status=unanswered",
            path="/?status=unanswered",
            cookie=anon,
        ),
        Page(
            "topic",
            "topic page 1",
            route="/t/{topic_id}",
            path=f"/t/{fixtures.topic_id}",
            cookie=anon,
        ),
        Page(
            "topic_deep",
            "topic deep page",
            route="/t/{topic_id}",
            path=f"/t/{fixtures.deep_topic_id}?cursor={fixtures.deep_cursor}",
            cookie=anon,
        ),
        Page(
            "topic_member",
            "topic page 1 (signed in)",
            route="/t/{topic_id}",
            path=f"/t/{fixtures.topic_id}",
            cookie=fixtures.member_cookie,
        ),
        Page(
            "topic_new_visitors",
            "topic page 1 (new visitors)",
            route="/t/{topic_id}",
            path=f"/t/{fixtures.topic_id}",
            new_visitors=True,
        ),
        Page(
            "question",
            "question page",
            route="/t/{topic_id}",
            path=f"/t/{fixtures.question_id}",
            cookie=anon,
        ),
        Page(
            "search_en",
            "search (en)",
            route="/search",
            path="/search?q=limited+edition",
            cookie=anon,
        ),
        Page(
            "search_ja",
            "search (ja, two words)",
            route="/search",
            path="/search?q=%E6%96%B0%E5%95%86%E5%93%81+%E3%82%A4%E3%83%99%E3%83%B3%E3%83%88",
            cookie=anon,
        ),
        Page(
            "profile",
            "profile",
            route="/u/{handle}",
            path=f"/u/{fixtures.profile_handle}",
            cookie=anon,
        ),
        Page("leaderboard", "leaderboard", route="/leaderboard", path="/leaderboard", cookie=anon),
        Page(
            "notifications",
            "notifications (signed in)",
            route="/notifications",
            path="/notifications",
            cookie=fixtures.member_cookie,
        ),
        Page(
            "dashboard",
            "operator dashboard",
            route=" or ".join(DASHBOARD_CANDIDATES),
            path=DASHBOARD_CANDIDATES[0],
            cookie=fixtures.operator_cookie,
        ),
    ]
    dashboard = pages.pop()  # measured after the writes: it is the heaviest page by design
    for key, title, method, route, _factory in WRITES:
        page = Page(key, title, write=True, route=f"{method} {route}")
        if key == "accept" and not fixtures.accept_plan:
            page.note = "not available (no answered questions in this data set)"
        pages.append(page)
    pages.append(dashboard)
    # The operator's other analytics pages, each over the whole community like the dashboard
    # (held to its target).
    for key, title, path in OPERATOR_PAGES:
        pages.append(Page(key, title, route=path, path=path, cookie=fixtures.operator_cookie))
    return pages


def select_pages(pages: list[Page], wanted: str, parser: argparse.ArgumentParser) -> list[Page]:
    """The pages named in ``--pages`` (all of them when it is empty), in the usual order."""
    keys = {key.strip() for key in wanted.split(",") if key.strip()}
    unknown = keys - {page.key for page in pages}
    if unknown:
        parser.error(f"unknown page(s) {', '.join(sorted(unknown))}")
    return [page for page in pages if not keys or page.key in keys]


def fill_write_requests(
    pages: list[Page], fixtures: Fixtures, work: Path, count: int, run_id: str
) -> None:
    factories = {key: factory for key, _title, _method, _route, factory in WRITES}
    for page in pages:
        if page.write and not page.note:
            page.requests_file = write_requests(
                work / f"{page.key}-{run_id}.tsv", factories[page.key](fixtures, count)
            )
            if page.requests_file is None:
                page.note = "not available (no fresh requests left)"


# --- one measured configuration -----------------------------------------------------------


def measure(
    db: DatabaseReport,
    url: str,
    workers: int,
    fixtures: Fixtures,
    args: argparse.Namespace,
    loader: str,
    work: Path,
) -> Run:
    env = base_env(url)
    env["BENCH_LOG_DIR"] = str(work)
    env["BENCH_DATABASE_URL"] = url
    run = Run(db.name, workers)
    kizuna_port, reference_port = free_port(), free_port()
    kizuna_server = Server(
        f"kizuna-{db.name}-w{workers}",
        serve_command(kizuna_port, workers),
        env,
        kizuna_port,
    )
    reference = Server(
        f"reference-{db.name}-w{workers}",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.reference_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(reference_port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        reference_port,
    )
    pages = [replace(page) for page in db.pages]
    fill_write_requests(
        pages, fixtures, work, int(args.write_rate * max(args.duration, 1)), f"{db.name}-w{workers}"
    )
    ref_page = Page("reference", "reference (Fortunes shape)", path="/fortunes")
    ref_write = Page("reference_write", "reference write (a like's transaction)", write=True)
    ref_write.requests_file = work / f"reference-write-{db.name}-w{workers}.tsv"
    ref_write.requests_file.write_text("PUT\t/like\t-\t\n")
    try:
        kizuna_server.wait_ready("/")
        reference.wait_ready("/fortunes")
        load = run_wrk if loader == "wrk" else run_builtin

        def one(server: Server, page: Page) -> Result:
            if not args.smoke:
                run.quiet_waits[page.title] = wait_for_quiet()
            with RssSampler(server) as sampler:
                result = load(server.base, page, args.duration)
                if page.write and server is kizuna_server:
                    result.score_backlog, result.backlog_cleared_s = asyncio.run(
                        _score_backlog(url)
                    )
                settle(server)
            result.peak_rss_mb = sampler.peak
            result.peak_process_mb = sampler.peak_process
            return result

        probe(kizuna_server.base, pages)
        log(f"{db.name}, {workers} worker(s): warming up")
        warm = max(1.0, args.duration / 5)
        for page in [ref_page, *[p for p in pages if p.available and not p.write]]:
            server = reference if page is ref_page else kizuna_server
            load(server.base, page, warm)
            settle(server)
        if any(page.write and page.available for page in pages):
            writers = {token for _member, token in fixtures.tokens}
            writers.update(token for token, _answers in fixtures.accept_plan)
            started = time.perf_counter()
            visited = asyncio.run(_first_visits(kizuna_server.base, sorted(writers)))
            run.first_visits = (visited, len(writers), time.perf_counter() - started)
            asyncio.run(_score_backlog(url))
            settle(kizuna_server)
            log(f"  writers' first visits of the day: {_first_visits_text(run.first_visits)}")
        run.vacuum_seconds = asyncio.run(_vacuum_if_autovacuum_is_off(url))
        if run.vacuum_seconds is not None:
            log(f"  autovacuum is off: VACUUM (ANALYZE) in its place, {run.vacuum_seconds:.1f} s")
        for page in pages:
            if page.available and not page.write and not page.note:
                run.results.setdefault(page.key, Result()).single_ms = single_request_ms(
                    kizuna_server.base, page, args.single
                )
        run.reference.append(one(reference, ref_page))
        log(f"  reference: {run.reference[-1].rps:.0f} req/s")
        for page in pages:
            if not page.available:
                run.results[page.key] = Result(note=page.note, status=page.status)
                continue
            single = run.results.get(page.key, Result()).single_ms
            result = one(kizuna_server, page)
            result.single_ms = single
            result.status = page.status
            if page.note:
                result.note = page.note
            run.results[page.key] = result
            log(
                f"  {page.title}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                f"p99 {result.p99_ms:.1f} ms, errors {result.errors}"
            )
        run.reference.append(one(reference, ref_page))
        log(f"  reference again: {run.reference[-1].rps:.0f} req/s")
        if any(page.write and page.available for page in pages):
            run.reference_write = one(reference, ref_write)
            log(
                f"  reference write: {run.reference_write.rps:.0f} req/s, "
                f"errors {run.reference_write.errors}"
            )
        run.server_log_problems = kizuna_server.problems()
    finally:
        kizuna_server.stop()
        reference.stop()
    return run


# A load starts once the machine is quiet: at most this share of its cores busy (iowait
# included) over one second, while no load runs, so that work left over from an earlier
# step (PostgreSQL's autovacuum and checkpoints after a load of writes, the kernel writing
# a freshly generated database back to disk) is not measured as the page's; the report says
# how long each configuration waited, so a run that began on a busy machine shows.
QUIET_BUSY = 0.10
QUIET_LIMIT_S = 180.0


def _cpu_busy_idle() -> tuple[int, int] | None:
    """The machine's busy and idle jiffies so far (iowait counts as busy), from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not first or first[0] != "cpu":
        return None
    values = [int(value) for value in first[1:9]]
    idle = values[3]
    return sum(values) - idle, idle


def wait_for_quiet(limit: float = QUIET_LIMIT_S) -> float | None:
    """Wait until one second passes with the cores at most :data:`QUIET_BUSY` busy; returns
    the seconds waited, or None if the machine was still busy after ``limit`` seconds (the
    load then runs anyway, and the report says so). Where /proc/stat cannot be read, 0."""
    started = time.monotonic()
    before = _cpu_busy_idle()
    if before is None:
        return 0.0
    while True:
        time.sleep(1.0)
        after = _cpu_busy_idle()
        assert after is not None
        busy, idle = after[0] - before[0], after[1] - before[1]
        if busy + idle and busy / (busy + idle) <= QUIET_BUSY:
            return time.monotonic() - started - 1.0
        if time.monotonic() - started >= limit:
            return None
        before = after


def settle(server: Server, limit: float = 180.0) -> None:
    """Wait until the server has finished the requests the load generator gave up on, so a
    slow page cannot eat into the next page's measurement (a cheap page that needs a database
    connection queues behind them)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(server.base + "/categories", timeout=limit) as answer:
                answer.read()
            return
        except urllib.error.HTTPError:
            return  # it answered (the reference app has no /categories): the queue is empty
        except OSError:
            time.sleep(0.5)


def probe(base: str, pages: list[Page]) -> None:
    """Ask the server for each page once. A route this version of the app does not have yet
    (404 or 405) is reported as not available; any other failure is kept as a note."""
    for page in pages:
        if not page.available:
            continue
        candidates = DASHBOARD_CANDIDATES if page.key == "dashboard" else (page.path,)
        status = 0
        for path in candidates:
            if page.key == "dashboard":
                page.path = path
            status = status_of(base, page)
            if status not in (404, 405):
                break
        page.status = status
        if status in (404, 405):
            page.path = ""
            page.requests_file = None
            page.note = f"not available (the app answers {status}: route not built yet)"
        elif status >= 400:
            page.note = f"answered {status} before the load"


async def _consistency(url: str) -> list[str]:
    """After the write runs: counters equal the rows they count."""
    from sqlalchemy import text

    from app.db import create_engine_unpooled

    engine = create_engine_unpooled(url)
    checks = []
    async with engine.connect() as db:
        bad_posts = (
            await db.execute(
                text(
                    "SELECT count(*) FROM posts p WHERE p.like_count != "
                    "(SELECT count(*) FROM post_likes l WHERE l.post_id = p.id) "
                    "AND p.id IN (SELECT post_id FROM post_likes WHERE member_id IN "
                    "(SELECT member_id FROM api_tokens WHERE name = 'bench'))"
                )
            )
        ).scalar_one()
        checks.append(
            f"posts liked by the benchmark whose like counter differs from their likes: {bad_posts}"
        )
        bad_topics = (
            await db.execute(
                text(
                    "SELECT count(*) FROM topics t WHERE t.post_count != "
                    "(SELECT count(*) FROM posts p "
                    "WHERE p.topic_id = t.id AND p.deleted_at IS NULL) "
                    "AND t.id IN (SELECT topic_id FROM posts WHERE author_id IN "
                    "(SELECT member_id FROM api_tokens WHERE name = 'bench'))"
                )
            )
        ).scalar_one()
        checks.append(
            f"topics replied to by the benchmark whose post counter differs from their posts: "
            f"{bad_topics}"
        )
        # Every member, not only the writers: bench-data's notifications, the tick's survey
        # announcements and the likes' notifications under load all keep the count.
        bad_unread = (
            await db.execute(
                text(
                    "SELECT count(*) FROM members m LEFT JOIN "
                    "(SELECT member_id, count(*) AS n FROM notifications "
                    "WHERE read_at IS NULL GROUP BY member_id) u ON u.member_id = m.id "
                    "WHERE m.unread_notifications != coalesce(u.n, 0)"
                )
            )
        ).scalar_one()
        checks.append(
            f"members whose unread count differs from their unread notifications: {bad_unread}"
        )
        # The views of the new-visitor loads, written in batches after their pages.
        bad_views = (
            await db.execute(
                text(
                    "SELECT count(*) FROM topics t WHERE t.view_count != "
                    "(SELECT count(*) FROM topic_views v WHERE v.topic_id = t.id)"
                )
            )
        ).scalar_one()
        checks.append(f"topics whose view counter differs from their visitors' views: {bad_views}")
        # bench-data's tags (the harness writes none): the tag pages count on the counter.
        bad_tags = (
            await db.execute(
                text(
                    "SELECT count(*) FROM tags g WHERE g.topic_count != "
                    "(SELECT count(*) FROM topic_tags tt WHERE tt.tag_id = g.id)"
                )
            )
        ).scalar_one()
        checks.append(f"tags whose topic count differs from their topics: {bad_tags}")
    await engine.dispose()
    return checks


# How long the harness waits for the score refresh to catch up after a write load.
BACKLOG_LIMIT_S = 60.0


def _quiet_text(run: Run) -> str:
    if not run.quiet_waits:
        return "Quiet machine: not waited for (smoke run)."
    waited = {title: s for title, s in run.quiet_waits.items() if s is not None}
    busy = [title for title, s in run.quiet_waits.items() if s is None]
    longest = max(waited.items(), key=lambda item: item[1], default=None)
    text = (
        f"Quiet machine: each load waited for a second with the cores at most "
        f"{QUIET_BUSY:.0%} busy; extra wait {sum(waited.values()):.0f} s in all"
    )
    if longest is not None and longest[1] >= 1.0:
        text += f", longest {longest[1]:.0f} s (before {longest[0]})"
    if busy:
        text += f"; still busy after {QUIET_LIMIT_S:.0f} s, measured anyway: " + ", ".join(busy)
    return text + "."


def _backlog_text(result: Result) -> str:
    cleared = result.backlog_cleared_s
    if cleared is None:
        return f"still waiting after {BACKLOG_LIMIT_S:.0f} s"
    return f"none {cleared:.1f} s later"


async def _score_backlog(url: str, limit: float = BACKLOG_LIMIT_S) -> tuple[int, float | None]:
    """Right after a write load: how many members' scores still await the incremental
    refresh (marked dirty by the writes), and how many seconds until none does."""
    from sqlalchemy import func, select

    from app.db import create_engine_unpooled
    from app.models import AnalyticsMemberScore

    engine = create_engine_unpooled(url)
    # The clause as the app's batch writes it, which the partial index of the dirty members
    # serves (a count polled every 50 ms must not scan every member's row).
    query = select(func.count()).select_from(AnalyticsMemberScore).where(AnalyticsMemberScore.dirty)
    started = time.monotonic()
    try:
        async with engine.connect() as db:
            backlog = int((await db.execute(query)).scalar_one())
            waiting = backlog
            while waiting:
                if time.monotonic() - started > limit:
                    return backlog, None
                await asyncio.sleep(0.05)
                await db.rollback()  # a fresh snapshot for the next count
                waiting = int((await db.execute(query)).scalar_one())
    finally:
        await engine.dispose()
    return backlog, time.monotonic() - started


def time_recompute(url: str) -> tuple[float | None, str]:
    """`kizuna analytics recompute`: every member's scores from the rollups, timed."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "analytics", "recompute"],
        env=base_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if "invalid choice" in done.stderr:
        return None, "not available in this version"
    lines = (done.stdout + done.stderr).strip().splitlines()
    if done.returncode != 0:
        return None, f"failed (exit {done.returncode}): {lines[-1] if lines else ''}"
    return seconds, lines[-1] if lines else ""


def points_check(url: str) -> str:
    env = base_env(url)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "points", "check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if "invalid choice" in done.stderr:
        return "kizuna points check: not available"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return f"kizuna points check (exit {done.returncode}): " + (lines[-1] if lines else "")


# --- the report ---------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_report(
    reports: list[DatabaseReport], args: argparse.Namespace, loader: str, started: datetime
) -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    out = [
        "# Benchmark results",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{args.command_line}`",
        f"- Machine: {os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}; "
        "the load generator, the server and the reference share these cores, so absolute "
        "numbers drift between runs: compare the ratios, which are measured in the same run.",
        f"- Load: {LOADERS[loader]}, "
        f"{CONNECTIONS} connections, {args.duration:g} s per page after a warm-up; "
        f"single-request times are the median of {args.single} sequential requests.",
        "- Reference: bench/reference_app.py, a bare FastAPI async route reading 20 rows with the "
        'raw driver and rendering them with Jinja2 (TechEmpower "Fortunes" shape), measured '
        "before and after the pages in the same configuration; ratios use the mean of the two.",
        "- Anonymous pages send one fixed anonymous-visitor cookie (a returning browser), "
        '"new visitors" a browser name of its own in every request (each view is written); '
        '"signed in" uses a member session, the dashboard and the other operator pages an '
        f"operator session; writes use API bearer tokens of {WRITERS:,} members, each like a fresh "
        "(member, post) pair, and every "
        "writer has made the day's first visit before the loads (as a member loads a page "
        "before acting on it): "
        '"like" spreads them (the requests in flight like different posts), "likes on one '
        'post" sends them all to one post at a time (a post going viral).',
        "",
    ]
    for report in reports:
        out += [f"## {report.name}", ""]
        out.append(f"- Data: {report.scale}")
        if report.generation_seconds is not None:
            out.append(f"- `kizuna bench-data` took {report.generation_seconds:.0f} s")
        if report.recompute:
            took = (
                f"{report.recompute_seconds:.1f} s" if report.recompute_seconds is not None else "-"
            )
            out.append(
                f"- Full analytics recompute (`kizuna analytics recompute`, scores and "
                f"ambassador detection for every member): {took}; {report.recompute}"
            )
        counts = [
            line.strip() for line in report.generation_output if re.match(r"^\s*\w+: [\d,]+$", line)
        ]
        if counts:
            out.append("- Rows: " + "; ".join(counts))
        out.append("")
        for run in report.runs:
            ref = run.reference_rps
            refs = ", ".join(f"{r.rps:.0f}" for r in run.reference)
            out += [
                f"### {report.name}, {run.workers} worker{'s' if run.workers > 1 else ''}",
                "",
                f"Reference page: {ref:.0f} requests/s (runs: {refs}); "
                f"p50 {_fmt(run.reference[0].p50_ms if run.reference else None)} ms, "
                f"peak RSS {_fmt(max((r.peak_rss_mb for r in run.reference), default=0), 0)} MB."
                + (
                    f" Write reference (bench/reference_app.py `PUT /like`: a like's "
                    f"transaction with the raw driver): {run.reference_write_rps:.0f} "
                    f"requests/s, p50 {run.reference_write.p50_ms:.1f} ms, "
                    f"errors {run.reference_write.errors}; write pages' ratios are to it."
                    if run.reference_write
                    else ""
                ),
                "",
                "| page | path | req/s | ratio to reference | p50 ms | p99 ms | errors "
                "| single ms | KB/page | peak RSS MB |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for page in report.pages:
                result = run.results.get(page.key)
                if result is None:
                    continue
                if result.requests == 0 and result.note:
                    out.append(
                        f"| {page.title} | {page.path or page.route} | {result.note} "
                        "| | | | | | | |"
                    )
                    continue
                shown_path = page.path or page.route
                base = run.reference_write_rps if page.write else ref
                ratio = f"{result.rps / base:.2f}" if base else "-"
                note = f" ({result.note})" if result.note else ""
                out.append(
                    f"| {page.title}{note} | `{shown_path}` | {result.rps:.0f} | {ratio} | "
                    f"{result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.errors} | "
                    f"{_fmt(result.single_ms)} | {result.bytes_per_request / 1024:.1f} | "
                    f"{result.peak_rss_mb:.0f} |"
                )
            backlogs = [
                (page.title, result)
                for page in report.pages
                if (result := run.results.get(page.key)) and result.score_backlog is not None
            ]
            if backlogs:
                out += [
                    "",
                    "Incremental score updates (members awaiting their refresh when each "
                    "write load ended):",
                ]
                out += [
                    f"- {title}: {result.score_backlog}, {_backlog_text(result)}"
                    for title, result in backlogs
                ]
            if run.first_visits is not None:
                out += [
                    "",
                    "Writers' first visits of the day, before the write loads (each a visit "
                    "recorded with its points and rollups; 16 connections of an httpx client "
                    f"in the harness's process): {_first_visits_text(run.first_visits)}.",
                ]
            if run.vacuum_seconds is not None:
                out += [
                    "",
                    "Autovacuum is off on this PostgreSQL server: before the single requests and "
                    "the loads (after the writers' first visits), the harness ran "
                    f"`VACUUM (ANALYZE)` in its place ({run.vacuum_seconds:.1f} s).",
                ]
            out += ["", _quiet_text(run)]
            if run.server_log_problems:
                out += ["", "Server log: " + "; ".join(run.server_log_problems)]
            else:
                out += ["", 'Server log: no tracebacks, no "database is locked".']
            out.append("")
        if report.small_topic:
            out += [
                "### Cost growth",
                "",
                "Topic page 1, one worker, single-request median (both servers up, "
                f"{GROWTH_ROUNDS} alternating rounds): "
                + ", ".join(
                    f"{label}: {value:.2f} ms" for label, value in report.small_topic.items()
                ),
                "",
            ]
        if report.checks:
            out += ["### Consistency after the write runs", ""]
            out += [f"- {check}" for check in report.checks]
            out.append("")
        out += target_lines(report)
    # Findings written by hand (profiles, causes, proposed fixes) survive every re-run.
    if ANALYSIS.exists():
        out += ["", ANALYSIS.read_text().strip()]
    return "\n".join(out).rstrip() + "\n"


def target_lines(report: DatabaseReport) -> list[str]:
    lines = [f"### Targets ({report.name})", ""]
    for run in report.runs:
        ref = run.reference_rps
        results = run.results

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        for key in ("topic", "topic_list"):
            result = results.get(key)
            if result and result.requests and ref:
                ratio = result.rps / ref
                lines.append(
                    f"- {run.workers}w {key}: {ratio:.0%} of reference (target >= 15%): "
                    f"{verdict(ratio >= 0.15)}; p99 {result.p99_ms:.1f} ms (target < 50 ms): "
                    f"{verdict(result.p99_ms < 50)}"
                )
        like = results.get("like")
        if like and like.requests:
            ceiling = (
                f"; the write reference did {run.reference_write_rps:.0f}/s"
                if run.reference_write
                else ""
            )
            lines.append(
                f"- {run.workers}w likes: {like.rps:.0f}/s with {like.errors} errors "
                f"(target >= 300/s, no errors): {verdict(like.rps >= 300 and like.errors == 0)}"
                f"{ceiling}"
            )
        if like and like.score_backlog is not None:
            cleared = like.backlog_cleared_s
            lines.append(
                f"- {run.workers}w incremental score updates after the like load: "
                f"{like.score_backlog} members waiting, {_backlog_text(like)} "
                f"(target: keep pace): {verdict(cleared is not None and cleared < 5)}"
            )
        hot = results.get("like_hot")
        if hot and hot.requests:
            lines.append(
                f"- {run.workers}w likes on one post at once: {hot.rps:.0f}/s with "
                f"{hot.errors} errors (the worst case, beside the target)"
            )
        for key, limit in (
            ("leaderboard", 10),
            ("profile", 10),
            ("dashboard", 300),
            *((key, 300) for key, _title, _path in OPERATOR_PAGES),
            ("search_ja", 100),
        ):
            result = results.get(key)
            if result and result.single_ms is not None:
                lines.append(
                    f"- {run.workers}w {key} single request {result.single_ms:.1f} ms "
                    f"(target < {limit} ms): {verdict(result.single_ms < limit)}"
                )
        peak = max((r.peak_rss_mb for r in results.values()), default=0.0)
        if peak:
            per_worker = max((r.peak_process_mb for r in results.values()), default=0.0)
            lines.append(
                f"- {run.workers}w peak server memory {peak:.0f} MB for the process tree, "
                f"{per_worker:.0f} MB for the largest process (target < 250 MB per worker): "
                f"{verdict(per_worker < 250)}"
            )
    if report.recompute_seconds is not None:
        lines.append(
            f"- full ambassador recompute {report.recompute_seconds:.1f} s at this scale "
            "(target < 60 s over 5M activities on PostgreSQL)"
        )
    if report.small_topic and len(report.small_topic) == 2:
        small, big = report.small_topic.values()
        if small:
            growth = big / small
            lines.append(
                f"- topic page cost, full data vs small community: {growth:.2f}x "
                f"(target <= 1.5x): {'met' if growth <= 1.5 else 'MISSED'}"
            )
    lines.append("")
    return lines


# --- main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    # Stopping the harness (Ctrl-C or SIGTERM) still stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--databases", default="sqlite", help="sqlite, postgresql or both (comma)")
    parser.add_argument(
        "--pg-url", default=os.environ.get("KIZUNA_BENCH_POSTGRES_URL", DEFAULT_PG_SERVER)
    )
    parser.add_argument(
        "--scale", type=float, default=0.1, help="data scale (1 = the issue's full scale)"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts to measure (comma)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per page")
    parser.add_argument(
        "--single",
        type=int,
        default=30,
        help="sequential requests per page for the single-request time",
    )
    parser.add_argument(
        "--write-rate",
        type=float,
        default=3000.0,
        help="prepared write requests per second of load",
    )
    parser.add_argument("--loader", choices=["auto", "wrk", "builtin"], default="auto")
    parser.add_argument("--schema", choices=["migrate", "create-all"], default="migrate")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--reuse", action="store_true", help="reuse a filled benchmark database")
    parser.add_argument(
        "--compare-small",
        type=float,
        default=0.0,
        help="also time the topic page on a community of this scale (e.g. 0.01)",
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data, 1 worker, 1 s per page: proves the harness works",
    )
    parser.add_argument("--keep", action="store_true", help="keep PostgreSQL benchmark databases")
    parser.add_argument(
        "--pages",
        default="",
        help="measure only these pages (comma-separated keys, e.g. topic,like); default all",
    )
    parser.add_argument(
        "--skip-recompute", action="store_true", help="do not time the full analytics recompute"
    )
    args = parser.parse_args(argv)
    args.command_line = "python bench/run.py " + " ".join(
        shlex.quote(arg) for arg in (argv if argv is not None else sys.argv[1:])
    )
    if args.smoke:
        args.workers = "1"
        args.duration = min(args.duration, 1.0)
        args.single = min(args.single, 3)
        args.write_rate = min(args.write_rate, 400.0)
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "builtin"
    started = datetime.now(UTC)
    work = args.data_dir / "run"
    work.mkdir(parents=True, exist_ok=True)

    if args.smoke:
        scale_args = [
            arg for name, value in SMOKE_COUNTS.items() for arg in (f"--{name}", str(value))
        ]
        scale_label = "smoke: " + ", ".join(f"{v} {k}" for k, v in SMOKE_COUNTS.items())
        tag = f"smoke-{uuid.uuid4().hex[:8]}"
    else:
        scale_args = ["--scale", f"{args.scale:g}"]
        from app.benchdata import Scale

        full = Scale().scaled(args.scale)
        scale_label = (
            f"scale {args.scale:g} of the issue's full size: {full.members:,} members, "
            f"{full.topics:,} topics, {full.posts:,} posts, {full.likes:,} likes, "
            f"~{full.activities:,} activities, {full.nps:,} NPS answers"
        )
        tag = f"s{args.scale:g}"

    reports: list[DatabaseReport] = []
    for kind in [name.strip() for name in args.databases.split(",") if name.strip()]:
        if kind not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {kind!r}")
        url, seconds, output = prepare_database(kind, args, scale_args, tag)
        report = DatabaseReport(
            "SQLite" if kind == "sqlite" else "PostgreSQL", url, scale_label, seconds, output
        )
        reports.append(report)
        try:
            if not args.skip_recompute:
                log("timing the full analytics recompute")
                report.recompute_seconds, report.recompute = time_recompute(url)
                log(f"  recompute: {report.recompute_seconds} s, {report.recompute}")
            fixtures = asyncio.run(_fixtures(url, WRITERS))
            report.pages = select_pages(build_pages(fixtures), args.pages, parser)
            for workers in [int(w) for w in str(args.workers).split(",")]:
                report.runs.append(measure(report, url, workers, fixtures, args, loader, work))
                args.output.write_text(render_report(reports, args, loader, started))
            report.checks = asyncio.run(_consistency(url))
            report.checks.append(points_check(url))
            if args.compare_small and report.runs:
                report.small_topic = compare_small(args, kind, url, fixtures, work)
            args.output.write_text(render_report(reports, args, loader, started))
        finally:
            if kind == "postgresql" and (args.smoke or not args.keep):
                drop_pg_database(args, url)
            if kind == "sqlite" and args.smoke:
                for suffix in ("", "-wal", "-shm"):
                    Path(url.split("///", 1)[1] + suffix).unlink(missing_ok=True)
    args.output.write_text(render_report(reports, args, loader, started))
    log(f"wrote {args.output}")
    return 0


# Rounds of the cost-growth comparison (each server in turn, half the single-request count).
GROWTH_ROUNDS = 6


def compare_small(
    args: argparse.Namespace, kind: str, url: str, fixtures: Fixtures, work: Path
) -> dict[str, float]:
    """Time the topic page on a small community and on the full one, both servers running,
    in alternating rounds: a page takes a millisecond or so, and this machine's speed drifts
    by more than the difference from one minute to the next, so each round lets both meet
    the same drift. The median of each server's requests over every round."""
    small_url, _seconds, _output = prepare_database(
        kind, args, ["--scale", f"{args.compare_small:g}"], f"s{args.compare_small:g}"
    )
    small = asyncio.run(_fixtures(small_url, 10))
    sides: list[tuple[str, Server, Page]] = []
    try:
        for label, target_url, fx in (
            (f"scale {args.compare_small:g}", small_url, small),
            (f"scale {args.scale:g}", url, fixtures),
        ):
            env = base_env(target_url)
            env["BENCH_LOG_DIR"] = str(work)
            port = free_port()
            server = Server(f"growth-{kind}-{port}", serve_command(port), env, port)
            sides.append(
                (
                    label,
                    server,
                    Page("topic", "topic", path=f"/t/{fx.topic_id}", cookie=fx.anon_cookie),
                )
            )
            server.wait_ready("/")
        samples: dict[str, list[float]] = {label: [] for label, _server, _page in sides}
        for _label, server, page in sides:
            request_times(server.base, page, 20)  # warm-up
        for _round in range(GROWTH_ROUNDS):
            for label, server, page in sides:
                samples[label].extend(
                    request_times(server.base, page, max(args.single, 50) // 2) or []
                )
        timings = {label: statistics.median(times) for label, times in samples.items() if times}
    finally:
        for _label, server, _page in sides:
            server.stop()
    if kind == "postgresql" and not args.keep:
        drop_pg_database(args, small_url)
    return timings


if __name__ == "__main__":
    sys.exit(main())
