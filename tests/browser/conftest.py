"""Real-browser journeys: Debian's Chromium driven by Playwright against a real `kizuna serve`
process on a free loopback port, with its own migrated database and the demo community.

Screenshots of failing journeys are kept in test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

CHROMIUM = os.environ.get("KIZUNA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "kizuna-demo-2026"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="Chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(
        self, base_url: str, env: dict[str, str], process: subprocess.Popen[bytes]
    ) -> None:
        self.base_url = base_url
        self.env = env
        self.process = process

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def kizuna(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


async def _admin(sql: str, server: str) -> None:
    url = make_url(server).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    server_url = os.environ.get("KIZUNA_TEST_DATABASE_URL", "")
    database_url = ""
    pg_name = ""
    if server_url.startswith("postgresql"):
        pg_name = f"kizuna_browser_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(f'CREATE DATABASE "{pg_name}"', server_url))
        database_url = (
            make_url(server_url).set(database=pg_name).render_as_string(hide_password=False)
        )
    env = {
        **os.environ,
        "KIZUNA_ENV": "test",
        "KIZUNA_DATA_DIR": str(data_dir),
        "KIZUNA_DATABASE_URL": database_url,
        "KIZUNA_BASE_URL": f"http://127.0.0.1:{port}",
        "KIZUNA_SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
        "KIZUNA_SMTP_URL": "",
        "KIZUNA_REDIS_URL": "",
        "KIZUNA_LOG_LEVEL": "warning",
        # Every journey signs its own fresh members up from 127.0.0.1: more than the default
        # ten sign-ups per address and hour (tests/accounts covers that limit).
        "KIZUNA_SIGNUPS_PER_IP_PER_HOUR": "1000",
    }
    for step in (["migrate", "upgrade"], ["demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *step],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kizuna {' '.join(step)} failed:\n{done.stderr}")
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((data_dir / "server.log").read_text())
        time.sleep(0.1)
    yield LiveServer(base, env, process)
    process.terminate()
    process.wait(timeout=20)
    log.close()
    if pg_name:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)', server_url))


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        await instance.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
async def new_page(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Open pages in fresh browser contexts (separate cookies: separate people).
    Each page records CSP violations and script errors; failing tests leave screenshots."""
    contexts: list[Any] = []
    pages: list[Any] = []

    async def factory(locale: str = "en-US") -> Any:
        context = await browser.new_context(
            locale=locale, extra_http_headers={"Accept-Language": locale}
        )
        contexts.append(context)
        page = await context.new_page()
        page.problems = []
        # A form answering 422 is logged by Chromium as a failed resource: that is not a problem.
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and page.problems.append(message.text)
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("dialog", lambda dialog: page.problems.append(f"dialog: {dialog.message}"))
        pages.append(page)
        return page

    yield factory
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages):
            await page.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True
            )
    for context in contexts:
        await context.close()


async def sign_in(page: Any, server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(server.url("/signin"))
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.click("form.stacked button[type=submit]")
    await page.wait_for_url(server.url("/"))


# --- helpers shared by the journeys ---------------------------------------------------------------
# Each journey makes its own members and topics, so journeys never depend on each other's state.
# Staff accounts come from the demo; a journey sets the interface language it expects itself,
# since the footer switcher stores the choice on the account.

try:
    from playwright.async_api import expect

    # The server shares two cores with everything else: give auto-waiting some room.
    expect.set_options(timeout=15_000)
except ImportError:  # pragma: no cover - the skip marker says what is missing
    pass


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


class LiveFrames:
    """The WebSocket frames a page receives (app.live). A journey waits until the server has
    accepted the page's socket ("hello") and its channel subscriptions ("subscribed"): an event
    raised after that by someone else is then certain to be pushed to this page."""

    def __init__(self, page: Any) -> None:
        self.frames: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        page.on("websocket", self._attach)

    def _attach(self, socket: Any) -> None:
        socket.on("framereceived", self._received)

    def _received(self, payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        if isinstance(frame, dict):
            self.frames.append(frame)
            self._changed.set()

    async def wait_for(self, wanted: dict[str, Any], timeout: float = 15) -> None:
        def seen() -> bool:
            return any(all(f.get(k) == v for k, v in wanted.items()) for f in self.frames)

        async with asyncio.timeout(timeout):
            while not seen():
                self._changed.clear()
                await self._changed.wait()


async def open_live(page: Any, url: str, *channels: str) -> None:
    """Open ``url`` and return once its live socket is connected (the member's own channel:
    bell and points) and subscribed to ``channels`` (e.g. "topic:12")."""
    frames = getattr(page, "live_frames", None)
    if frames is None:
        frames = page.live_frames = LiveFrames(page)
    frames.frames.clear()
    await page.goto(url)
    await frames.wait_for({"type": "hello"})
    for channel in channels:
        await frames.wait_for({"type": "subscribed", "channel": channel})


async def use_language(page: Any, code: str) -> None:
    """Switch the interface with the footer language switcher (nothing to do when it is on)."""
    if await page.get_attribute("html", "lang") != code:
        await page.click(f"footer button[lang={code}]")
        await page.wait_for_selector(f"html[lang={code}]")


@dataclass
class Person:
    page: Any
    email: str
    name: str
    handle: str

    async def points(self) -> int:
        """The lifetime points the header chip shows."""
        return int(await self.page.inner_text(".points-chip [data-points=lifetime]"))


async def _handle_of(page: Any) -> str:
    href = await page.get_attribute("header nav a[href^='/u/']", "href")
    return str(href).removeprefix("/u/")


class Community:
    """Browser contexts (separate cookies: separate people) for the people of one journey."""

    def __init__(self, server: LiveServer, new_page: Any) -> None:
        self.server = server
        self.new_page = new_page
        self._admin: Person | None = None

    def url(self, path: str) -> str:
        return self.server.url(path)

    async def staff(self, email: str, language: str = "en") -> Person:
        page = await self.new_page()
        await sign_in(page, self.server, email)
        await use_language(page, language)
        name = await page.inner_text("header nav a[href^='/u/']")
        return Person(page, email, name, await _handle_of(page))

    async def admin(self) -> Person:
        if self._admin is None:
            self._admin = await self.staff("admin@example.com")
        return self._admin

    async def join(self, prefix: str) -> Person:
        """A new member signs up with the form and follows the activation link, which waits in
        the admin's mail outbox (no SMTP in tests); the link signs them in."""
        name = unique(prefix)
        email = f"{name.replace(' ', '.').lower()}@example.com"
        page = await self.new_page()
        await page.goto(self.url("/signup"))
        await page.fill("#f-email", email)
        await page.fill("#f-display_name", name)
        await page.fill("#f-password", "a long enough passphrase")
        await page.click("form.stacked button[type=submit]")
        await expect(page.locator("main h1")).to_have_text("Check your inbox")
        admin = await self.admin()
        await admin.page.goto(self.url("/admin/outbox"))
        mail = await admin.page.locator(".card", has_text=email).first.inner_text()
        link = re.search(r"(http://127\.0\.0\.1:\d+/activate/\S+)", mail)
        assert link, mail
        await page.goto(link.group(1))
        await expect(page.locator("header nav")).to_contain_text(name)
        return Person(page, email, name, await _handle_of(page))


@pytest.fixture
def community(live_server: LiveServer, new_page: Any) -> Community:
    return Community(live_server, new_page)


async def start_topic(community: Community, person: Person, category: str, title: str) -> str:
    """``person`` posts a new topic from the home page's button; returns its address."""
    page = person.page
    await page.goto(community.url("/"))
    await page.click("main a.button[href='/t/new']")
    await page.select_option("#f-category_id", label=category)
    await page.fill("#f-title", title)
    await page.fill("#f-body", f"Body of {title}: what do you all think?")
    await page.click("form.stacked button[type=submit]")
    await expect(page.locator("main h1")).to_have_text(title)
    return str(page.url).split("#")[0]


async def open_status(page: Any, url: str) -> int:
    """Open ``url`` as a person would (typing the address) and return the HTTP status."""
    answer = await page.goto(url)
    assert answer is not None, url
    return int(answer.status)
