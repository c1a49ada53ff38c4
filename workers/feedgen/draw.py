"""The feed's random source: a seeded `random.Random` with the cheap draws the generator repeats."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Draws(random.Random):
    """A seeded random source; `item` and `between` use one `random()` each, so the feed is stable per seed."""

    def item(self, seq: Sequence[T]) -> T:
        """One element of `seq`, uniformly."""
        return seq[int(self.random() * len(seq))]

    def between(self, low: int, high: int) -> int:
        """An int in [low, high)."""
        return low + int(self.random() * (high - low))


class Weighted(Generic[T]):
    """Weighted choice with a precomputed cumulative table (one `random()` per draw)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        kept = [(item, w) for item, w in pairs if w > 0]
        if not kept:
            raise ValueError("nothing to choose from")
        self.items = [item for item, _ in kept]
        self.cum = list(accumulate(w for _, w in kept))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect(self.cum, rng.random() * self.total)]
