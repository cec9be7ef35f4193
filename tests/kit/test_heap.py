"""The serving process's garbage collector (app.kit.heap): start-up's objects are frozen, so a
full collection under load no longer walks the whole app; what requests make afterwards is
still collected, and stopping the app undoes it."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

from app.kit import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_settle_freezes_the_heap_yet_later_garbage_is_still_collected() -> None:
    before = gc.get_threshold()
    heap.settle()
    try:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, before[1], before[2])
        # A reference cycle made after the freeze (as a request's objects are) is still
        # freed: nothing leaks for the freeze's sake.
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        gc.collect()
        assert gone() is None
    finally:
        heap.release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


_SERVER_APP = """
import asyncio, gc, json
from app.main import create_server_app

async def main():
    app = create_server_app()
    before = gc.get_threshold()
    async with app.router.lifespan_context(app):
        serving = (gc.get_freeze_count(), gc.get_threshold())
    print(json.dumps({"before": before, "serving": serving,
                      "after": (gc.get_freeze_count(), gc.get_threshold())}))

asyncio.run(main())
"""


def test_the_app_kizuna_serve_runs_settles_its_heap_while_it_serves(tmp_path: Path) -> None:
    # In a process of its own, as each of `kizuna serve`'s workers is (the test process's
    # own app must keep its database and collector as they are).
    subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate", "upgrade"],
        env={**os.environ, "KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_DATABASE_URL": ""},
        capture_output=True,
        check=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-c", _SERVER_APP],
        env={
            **os.environ,
            "KIZUNA_DATA_DIR": str(tmp_path),
            "KIZUNA_DATABASE_URL": "",
            "KIZUNA_ENV": "development",
            "KIZUNA_REDIS_URL": "",
            "KIZUNA_SMTP_URL": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    frozen, threshold = report["serving"]
    assert frozen > 10_000  # the app's modules, mappers, routes and templates
    assert threshold[0] == heap.YOUNG_THRESHOLD
    assert report["after"] == [0, report["before"]]
