"""The garbage collector of a serving process.

Python's cyclic collector now and then walks every object the process holds (a full, oldest
generation collection). In a worker that is the whole app: SQLAlchemy's mappers and compiled
statements, FastAPI's routes, the templates, the translations. Under load one such walk took
69-109 ms (in-process, the topic list, 10% data), and every request in flight waited for it,
once every 2,000 requests or so: a p99 of its own.

Once the app has started, :func:`settle` collects what start-up left behind, then freezes the
rest (``gc.freeze()``): frozen objects are never walked again. Objects made afterwards
(requests, caches) are collected as before. The youngest generation's threshold is raised
from 700 to :data:`YOUNG_THRESHOLD` allocations, so a page that builds a few thousand
objects does not set off several collections of its own. :func:`release` undoes both when the
app stops (tests start and stop many apps in one process). Measured: bench/ANALYSIS.md,
session 9.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000

_saved: tuple[int, int, int] | None = None


def settle() -> None:
    """Collect start-up's garbage, freeze what is left, raise the young threshold."""
    global _saved
    gc.collect()
    gc.freeze()
    if _saved is None:
        _saved = gc.get_threshold()
    _young, older, oldest = _saved
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


def release() -> None:
    """Undo :func:`settle`: frozen objects are collectable again, thresholds as they were."""
    global _saved
    gc.unfreeze()
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None
