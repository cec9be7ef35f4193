"""Helpers shared by the kit's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait up to 5 s for ``condition`` to hold, checking every 10 ms; fail naming ``what``."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")
