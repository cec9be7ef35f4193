"""The lottery: fair, and reproducible from its recorded seed.

Winners are drawn with ``random.Random(seed)`` over the entry ids sorted ascending, so anyone
with the seed and the list of entries can draw the same winners again.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable


def new_seed() -> str:
    return secrets.token_hex(16)


def draw(entry_ids: Iterable[int], seed: str, winners: int) -> list[int]:
    """The winning entry ids (sorted), ``winners`` of them or everyone when fewer entered."""
    pool = sorted(entry_ids)
    count = max(0, min(winners, len(pool)))
    return sorted(random.Random(seed).sample(pool, count))
