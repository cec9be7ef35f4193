"""A real Kizuna instance for fault tests: its own data directory and database (a SQLite file,
or a fresh PostgreSQL database when KIZUNA_TEST_DATABASE_URL points at a server), served by a
`kizuna serve` subprocess that a test can start, kill with SIGKILL and start again.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from tests.faults.seed import PASSWORD

SECRET = "fault-drill-secret-key-0123456789abcdefghij"
ROOT = Path(__file__).resolve().parents[2]
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def server_url() -> str:
    return os.environ.get("KIZUNA_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return server_url().startswith("postgresql")


def _admin_dsn() -> str:
    url = make_url(server_url()).set(drivername="postgresql", database="postgres")
    return url.render_as_string(hide_password=False)


async def _admin(sql: str) -> Any:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        rows = await connection.fetch(sql)  # every row is produced (fetchval stops at one)
        return rows[0][0] if rows and len(rows[0]) else None
    finally:
        await connection.close()


def admin_sql(sql: str) -> Any:
    """Run one statement on the PostgreSQL server's maintenance database; its first value."""
    return asyncio.run(_admin(sql))


@contextmanager
def fresh_database(root: Path) -> Iterator[str]:
    """A database URL for a new, empty database; dropped afterwards on PostgreSQL."""
    if not on_postgres():
        yield f"sqlite+aiosqlite:///{root / 'data' / 'kizuna.db'}"
        return
    name = f"kizuna_fault_{uuid.uuid4().hex[:10]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "server.log"
        self.env = {
            **os.environ,
            "KIZUNA_ENV": "test",
            "KIZUNA_DATA_DIR": str(self.data_dir),
            "KIZUNA_DATABASE_URL": database_url,
            "KIZUNA_BASE_URL": self.base_url,
            "KIZUNA_SECRET_KEY": SECRET,
            "KIZUNA_SMTP_URL": "",
            "KIZUNA_REDIS_URL": "",
            "KIZUNA_LOG_LEVEL": "warning",
            "KIZUNA_SIGNUPS_PER_IP_PER_HOUR": "100000",
            "KIZUNA_SIGNIN_ATTEMPTS_PER_IP": "100000",
            "KIZUNA_API_TOKEN_REQUESTS_PER_MINUTE": "100000",
            "PYTHONPATH": str(ROOT),
        }

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def database_name(self) -> str:
        return str(make_url(self.database_url).database)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "kizuna.db"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    def run(self, module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def kizuna(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("app.cli", *args, check=check)

    def seed(self, *accounts: str) -> None:
        """Create the schema and accounts given as ``role:email``."""
        self.run("tests.faults.seed", *accounts)

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a power cut for the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the instance's database directly (not through the app)."""
        if self.is_sqlite:
            connection = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                return [tuple(row) for row in connection.execute(sql).fetchall()]
            finally:
                connection.close()

        async def fetch() -> list[tuple[Any, ...]]:
            url = make_url(self.database_url).set(drivername="postgresql")
            connection = await asyncpg.connect(url.render_as_string(hide_password=False))
            try:
                return [tuple(row) for row in await connection.fetch(sql)]
            finally:
                await connection.close()

        return asyncio.run(fetch())

    def browser(self) -> Browser:
        return Browser(self.base_url)


class Browser(httpx.Client):
    """One person's cookies, sending the CSRF token the pages give it, like a browser does."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url=base_url, headers={"Accept-Language": "en"}, timeout=30)
        self._csrf: str | None = None

    def csrf(self) -> str:
        if self._csrf is None:
            page = self.get("/signin", headers={"Accept": "text/html"}, follow_redirects=True)
            match = _META_CSRF.search(page.text)
            assert match, page.text[:500]
            self._csrf = match.group(1)
        return self._csrf

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        answer = self.post(
            "/signin",
            data={"email": email, "password": password, "csrf_token": self.csrf()},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:500]
        self._csrf = None  # the token is bound to the session, which just changed

    def api(self, method: str, path: str, payload: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf(), **kwargs.pop("headers", {})}
        return self.request(method, f"/api/v1{path}", json=payload, headers=headers, **kwargs)
