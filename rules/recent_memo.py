"""A bounded memo that keeps what was used recently: the engine's name-match results and the name
index's similar words.

A worker sees the same counterparties again and again among names it sees once. A memo emptied
whole when full dropped the recurring names with the rest, and every worker fell back to its
cold-start speed each time it filled (about every 40,000 payments of the bench's mix: `python
-m ops.bench` figures in README, "Performance"). Two generations instead: new entries go into
the current one; when it is full it becomes the previous one and the older is dropped; a hit in
the previous generation moves the entry back into the current one. What recurs stays; what was
seen once leaves within two generations. At most twice `generation` entries are held.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Final

# No cached value (None may be one).
MISSING: Final = object()


class RecentMemo:
    """Values by key, at most 2 x `generation` of them, the least recently used dropped first
    (by generation, not one by one: a lookup is one dict access)."""

    def __init__(self, generation: int) -> None:
        if generation < 1:
            raise ValueError("a generation holds one entry at least")
        self.generation = generation
        self.current: dict[Hashable, object] = {}
        self.previous: dict[Hashable, object] = {}

    def __len__(self) -> int:
        return len(self.current) + len(self.previous)

    def lookup(self, key: Hashable) -> object:
        """The value for key, or MISSING."""
        value = self.current.get(key, MISSING)
        return self.promote(key) if value is MISSING else value

    def get_or_compute(self, key: Hashable, compute: Callable[[], object]) -> object:
        """The value for key, computed by compute() and stored on a miss."""
        value = self.current.get(key, MISSING)
        if value is MISSING:
            value = self.promote(key)
            if value is MISSING:
                value = compute()
                self.store(key, value)
        return value

    def promote(self, key: Hashable) -> object:
        """The previous generation's value for key, moved into the current one; or MISSING."""
        # Moved, not copied: an entry is in one generation only, so the bound holds.
        value = self.previous.pop(key, MISSING)
        if value is not MISSING:
            self.store(key, value)
        return value

    def store(self, key: Hashable, value: object) -> None:
        if len(self.current) >= self.generation:
            self.previous = self.current
            self.current = {}
        self.current[key] = value
