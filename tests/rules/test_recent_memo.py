"""The engine's bounded memo (rules/recent_memo.py): bounded, and what recurs survives a full memo."""

from __future__ import annotations

import pytest

from rules import load_rules
from rules.recent_memo import MISSING, RecentMemo


def test_a_missing_key_is_missing_and_none_is_a_value() -> None:
    memo = RecentMemo(4)
    assert memo.lookup("a") is MISSING
    memo.store("a", None)
    assert memo.lookup("a") is None


def test_never_more_than_two_generations() -> None:
    memo = RecentMemo(100)
    for i in range(10_000):
        memo.store(i, i)
        assert len(memo) <= 200
    # The most recent generation is all there; the oldest keys are gone.
    assert all(memo.lookup(i) == i for i in range(9_900, 10_000))
    assert memo.lookup(0) is MISSING


def test_an_entry_used_in_every_generation_is_never_dropped() -> None:
    """The defect this replaces: a memo emptied whole when full lost the recurring names too."""
    memo = RecentMemo(50)
    memo.store("recurring", "kept")
    for i in range(5_000):
        memo.store(("once", i), i)
        if i % 40 == 0:
            assert memo.lookup("recurring") == "kept"
    assert memo.lookup("recurring") == "kept"


def test_a_promoted_entry_is_held_once() -> None:
    memo = RecentMemo(3)
    for key in "abc":
        memo.store(key, key)
    memo.store("d", "d")  # a, b, c become the previous generation
    assert memo.lookup("a") == "a"  # moved back into the current one
    assert len(memo) == 4
    assert "a" not in memo.previous


def test_a_generation_holds_one_entry_at_least() -> None:
    with pytest.raises(ValueError, match="one entry"):
        RecentMemo(0)


def test_rule_set_memo_computes_once_per_key_and_stays_bounded() -> None:
    rules = load_rules()
    rules.match_cache = RecentMemo(10)
    calls: list[int] = []

    def compute(i: int) -> int:
        calls.append(i)
        return i * 2

    for _ in range(3):
        assert rules.memo(("k", 1), lambda: compute(1)) == 2
    assert calls == [1]
    for i in range(100):
        rules.memo(("k", i + 2), lambda i=i: compute(i + 2))
        rules.memo(("k", 1), lambda: compute(1))  # recurring: never recomputed
    assert calls.count(1) == 1
    assert len(rules.match_cache) <= 20
