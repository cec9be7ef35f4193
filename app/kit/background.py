"""A task that runs beside the web app in each serving process, started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundLoop:
    """Subclasses write ``_run`` (a loop); ``start`` schedules it, ``stop`` cancels it."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
