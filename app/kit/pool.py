"""A connection pool whose waiters are served in the order they came.

SQLAlchemy's asyncio pool keeps its idle connections in an ``asyncio.Queue``. When a
connection comes back, the queue wakes its first waiter, but the connection stays in the
queue until that waiter's task runs again, and any task that asks for a connection in
between takes it without waiting. The waiter then finds the queue empty and waits again, at
the back of the line. On SQLite the app's writers share one connection (app.db), so a
writer could be passed over time after time by callers that came later (a request's next
write, a scheduler job's loop writing again as soon as it has written). Driven in one
process by 16 concurrent likes through the ASGI interface, the score refresh waited 1-18 s
for the connection that way and the scores fell behind for as long (bench/ANALYSIS.md,
session 27); under uvicorn the sockets' callbacks usually let the waiter run first, but
nothing made sure of it.

Here a returned connection is handed straight to the first waiter still waiting, so nobody
can take it in between, and a new caller waits behind those already waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

T = TypeVar("T")


class FairQueue(AsyncAdaptedQueue[T]):
    """The pool's idle connections and, when there are none, its waiters, first come first
    served."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[T]] = deque()
        # Called with an item about to wait idle, nobody being in line for it: its owner may
        # finish what the item still carries first (app.db: a shared COMMIT).
        self.before_idle: Callable[[T], None] | None = None

    def waiting(self) -> int:
        """How many callers are waiting for an item."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def _first_waiter(self) -> asyncio.Future[T] | None:
        while self._waiters:
            if not self._waiters[0].done():
                return self._waiters[0]
            self._waiters.popleft()  # gave up (timed out or cancelled)
        return None

    def put_nowait(self, item: T) -> None:
        waiter = self._first_waiter()
        if waiter is None and self.before_idle is not None:
            self.before_idle(item)
            waiter = self._first_waiter()  # the hook may have awaited: callers came meanwhile
        if waiter is None:
            super().put_nowait(item)
            return
        self._waiters.popleft()
        waiter.set_result(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        if self._first_waiter() is not None:
            self.put_nowait(item)  # handed over: never waits for room
            return
        super().put(item, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._first_waiter() is None:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        elif not block:
            raise Empty()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> T:
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                # Handed an item just as we gave up: pass it on to the next in line.
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise Empty() from exc
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool with :class:`FairQueue` for its idle connections."""

    _queue_class: Any = FairQueue

    def before_idle(self, callback: Callable[[Any], None]) -> None:
        """Have ``callback`` called with each connection record about to wait idle (called
        where the connection was given back: in SQLAlchemy's greenlet when it can await)."""
        cast(FairQueue[Any], self._pool).before_idle = callback
