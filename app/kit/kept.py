"""A bounded per-process map for values made from their whole key (never stale: a changed
input is a new key), least recently used out first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[..., V], *args: Any) -> V:
        """The value kept for ``key``; if there is none, ``make(*args)``, kept."""
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = make(*args)
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        else:
            self._values.move_to_end(key)
        return value
