"""The golden corpus of name pairs: look-alikes never block, variants do."""

from pathlib import Path

from rules.evaluation import evaluate, read_pairs

CORPUS = Path(__file__).resolve().parent.parent / "golden" / "name_pairs.csv"


def test_corpus_is_large_and_balanced():
    pairs = read_pairs(CORPUS.read_text(encoding="utf-8"))
    assert len(pairs) >= 150
    assert sum(p.expected == "no_match" for p in pairs) >= 60


def test_no_look_alike_blocks_and_recall_is_high(rules):
    outcome = evaluate(rules, read_pairs(CORPUS.read_text(encoding="utf-8")))
    assert outcome.false_pos == 0, outcome.errors
    assert outcome.recall >= 0.97, outcome.errors
