"""`screener replay`: re-screen past payments under other rules, lists or registry, and compare.

A lookback (what would the new list have stopped?) is batch work: payments come from a file or
from the `payments` topic, are screened in parallel by the same pure function the worker uses
(rules.engine.screen), and each new decision is compared with the one recorded. Nothing here
writes to the live decision topics.
"""
