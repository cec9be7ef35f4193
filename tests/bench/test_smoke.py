"""The benchmark harness, run as `make test` runs it: a tiny community, every benchmarked page
through a real server, and the report. The full benchmark is separate (see README)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_smoke_run_measures_every_page_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    server = os.environ.get("KIZUNA_TEST_DATABASE_URL", "")
    databases = ["--databases", "sqlite"]
    if server.startswith("postgresql"):
        databases = ["--databases", "postgresql", "--pg-url", server]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--smoke",
            "--schema",
            "create-all",
            "--data-dir",
            str(tmp_path),
            "--output",
            str(report),
            "--compare-small",
            "0.01",
            *databases,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = report.read_text()
    assert "# Benchmark results" in text
    assert "- Command: `python bench/run.py --smoke" in text
    assert "1 worker" in text
    assert "Reference page:" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    titles = {line.split(" | ")[0].lstrip("| ") for line in rows}
    for title in (
        "home",
        "topic list (tag)",
        "top topics of the year",
        "unanswered questions",
        "topic page 1",
        "topic page 1 (new visitors)",
        "topic deep page",
        "question page",
        "leaderboard",
        "notifications (signed in)",
    ):
        assert any(found.startswith(title) for found in titles), title
    # A page either answered before the load and was measured, or is not built yet: never an
    # error page.
    assert not [line for line in rows if "answered 5" in line]
    assert "Points are consistent" in text
    # The cost-growth comparison ran both communities' servers and timed each.
    growth = re.search(r"rounds\): scale 0\.01: ([0-9.]+) ms, scale ([0-9.]+): ([0-9.]+) ms", text)
    assert growth is not None, text
    assert float(growth.group(1)) > 0
    assert float(growth.group(3)) > 0
    assert "like counter differs from their likes: 0" in text
    assert "unread count differs from their unread notifications: 0" in text
    assert "view counter differs from their visitors' views: 0" in text
    assert "tags whose topic count differs from their topics: 0" in text
    # The write reference ran beside the write pages, without an error.
    assert re.search(r"Write reference \(.*\): \d+ requests/s, p50 [\d.]+ ms, errors 0;", text)
    # The likes marked their members' scores for the incremental refresh, and the server
    # refreshed every one of them after the load.
    assert re.search(r"- write: like \(with points\): \d+, none [\d.]+ s later", text)
    # Every writer made today's first visit before the write loads, and it was timed.
    assert re.search(r"Writers' first visits of the day.*: (\d+) of \1 answered in [\d.]+ s", text)
    # A PostgreSQL server without autovacuum is vacuumed in its place before the measurements
    # (the smoke run has one configuration), and the report says so; one with it, or SQLite,
    # is left alone.
    vacuumed = re.findall(r"Autovacuum is off on this PostgreSQL server: .* \(([\d.]+) s\)", text)
    expected = 1 if server.startswith("postgresql") and _autovacuum(server) == "off" else 0
    assert len(vacuumed) == expected, text


def _autovacuum(server: str) -> str:
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    async def show() -> str:
        dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            return str(await connection.fetchval("SHOW autovacuum"))
        finally:
            await connection.close()

    return asyncio.run(show())


def test_builtin_loader_and_wrk_parser(tmp_path: Path) -> None:
    """Without wrk the harness loads pages itself; its numbers come from real answers."""
    bench = harness()
    database = tmp_path / "reference.db"
    db = sqlite3.connect(database)
    with db:
        db.execute(
            "CREATE TABLE topics (id INTEGER PRIMARY KEY, title TEXT, reply_count INTEGER, "
            "last_posted_at TEXT)"
        )
        db.executemany(
            "INSERT INTO topics VALUES (?, ?, ?, ?)",
            [(n, f"話題 {n} <b>", n, f"2026-01-{n:02d} 00:00:00") for n in range(1, 26)],
        )
    db.close()
    port = bench.free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.reference_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/fortunes", timeout=5) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert page.count("<tr>") == 21  # a header and 20 rows
        assert "話題 25 &lt;b&gt;" in page  # newest first, escaped
        result = bench.run_builtin(
            base, bench.Page("reference", "reference", path="/fortunes"), 1.0
        )
        assert result.requests > 0
        assert result.errors == 0
        assert 0 < result.p50_ms <= result.p99_ms
        assert result.bytes_per_request == pytest.approx(len(page.encode()), rel=0.01)
        # The write reference commits each like before answering: the counter it bumped
        # comes back one higher every time.
        counts = []
        for _ in range(2):
            request = urllib.request.Request(base + "/like", method="PUT")
            with urllib.request.urlopen(request, timeout=5) as answer:
                counts.append(json.loads(answer.read())["like_count"])
        assert counts == [1, 2]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
    # Its scratch tables went with it: Kizuna's database keeps only its own tables.
    db = sqlite3.connect(database)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert tables == {"topics"}

    parsed = bench.parse_wrk(
        "Running 10s test @ http://127.0.0.1:8000/\n"
        "  Latency Distribution\n     50%    4.00ms\n     75%    4.50ms\n"
        "     99%    1.20s\n"
        "  38000 requests in 10.00s, 120.00MB read\n"
        "  Socket errors: connect 0, read 2, write 0, timeout 3\n"
        "  Non-2xx or 3xx responses: 5\n"
        "Requests/sec:   3800.00\nTransfer/sec:     12.00MB\n"
    )
    assert (parsed.rps, parsed.p50_ms, parsed.p99_ms) == (3800.0, 4.0, 1200.0)
    assert (parsed.requests, parsed.non_2xx, parsed.socket_errors, parsed.errors) == (
        38000,
        5,
        5,
        10,
    )


def test_a_busy_machine_is_not_called_quiet() -> None:
    """A load waits for a quiet machine; with every core kept busy the wait gives up at its
    limit and the report names the load that was measured anyway."""
    bench = harness()
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        started = time.monotonic()
        assert bench.wait_for_quiet(limit=2.0) is None
        assert time.monotonic() - started >= 2.0
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    run = bench.Run("SQLite", 1, quiet_waits={"reference": 0.0, "topic page 1": 4.0, "like": None})
    text = bench._quiet_text(run)
    assert "extra wait 4 s in all, longest 4 s (before topic page 1)" in text
    assert "measured anyway: like" in text
