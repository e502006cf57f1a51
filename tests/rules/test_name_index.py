"""The index is a blocking step only: it must find every listed name the score would accept."""

import random

from ops.bench import data, names
from rules.name_forms import name_form
from rules.name_index import NameIndex, search_key
from rules.similarity import POSSIBLE_MATCH
from rules.word_similarity import token_similarity
from rules.word_weights import GENERIC_WORDS


def _index(listed):
    entries: list[tuple[str, str, bool]] = []
    for x in listed:
        entries.extend((n, x.entry["id"], False) for n in (x.entry["name"], *x.entry["aliases"]))
    return NameIndex(entries)


def _queries(listed, count):
    names = set()
    registry = data.registry(3)
    for g in data.payments(count, 3, listed, registry, one_off=1.0):
        for key in ("debtor", "creditor"):
            names.add(g.payment[key]["name"])
    return sorted(names)


def test_search_finds_exactly_what_a_full_scan_finds():
    listed = data.blocked_persons(1_000, 3)
    index = _index(listed)
    queries = _queries(listed, 300)
    # Listed names with a slip, upper-cased, reordered, or in another script, as payments carry them.
    queries += [x.entry["name"].upper() for x in listed[:50]]
    queries += [names.typo(random.Random(i), x.entry["name"]) for i, x in enumerate(listed[50:150])]
    queries += [x.native for x in listed if x.native][:50]
    found_any = 0
    for query in queries:
        fast = [(h.score, h.name.form.original) for h in index.search(query, POSSIBLE_MATCH)]
        full = [(h.score, h.name.form.original) for h in index.scan(query, POSSIBLE_MATCH)]
        assert fast == full, query
        found_any += bool(full)
    assert found_any > 150  # the queries do reach listed names, so the equality is not vacuous


def test_a_common_word_alone_does_not_make_candidates():
    # Many listed names share "mohammed"; a query with only that word reaches none of the names
    # that also need another word the query lacks.
    index = NameIndex([(f"Mohammed Zarak{i:04d}x", i, False) for i in range(2_000)])
    assert len(index.candidates(name_form("Mohammed"))) == 0
    hits = index.search("Mohammed Zarak0042x", POSSIBLE_MATCH)
    assert (hits[0].name.payload, hits[0].score) == (42, 100.0)


def test_a_search_below_the_indexed_floor_scans_everything():
    index = NameIndex([("Alpha Beta", 1, False), ("Gamma Delta", 2, False)])
    # "Alpha Zeta" scores 35 against "Alpha Beta": below the indexed floor, yet found by the scan.
    assert [h.name.payload for h in index.search("Alpha Zeta", 30)] == [1]
    assert index.search("Alpha Zeta", POSSIBLE_MATCH) == []


def _edited(rng, word):
    """word with one or two random edits: a letter changed, added, dropped, or two swapped."""
    for _ in range(rng.choice((1, 2))):
        i = rng.randrange(len(word))
        op = rng.randrange(4)
        if op == 0:
            word = word[:i] + rng.choice("aehiklmnorsuy") + word[i + 1 :]
        elif op == 1:
            word = word[:i] + rng.choice("aehiklmnorsuy") + word[i:]
        elif op == 2 and len(word) > 2:
            word = word[:i] + word[i + 1 :]
        elif len(word) > i + 1:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


def test_similar_words_finds_every_word_token_similarity_accepts():
    # The word keys (deletions, starts, sounds) and the edit-count filter only spare work: what
    # similar_words returns is what comparing the word with every listed word accepts. Two forms
    # of a generic word of very different lengths ("bank"/"banking") are left out by design.
    rng = __import__("random").Random(11)
    index = _index(data.blocked_persons(150, 5))
    vocabulary = sorted(index._vocabulary)
    tokens = sorted(set(vocabulary) | {_edited(rng, w) for w in vocabulary})
    for token in tokens:
        found = index.similar_words(token)
        accepted = {w for w in vocabulary if token_similarity(token, w)}
        assert found <= accepted, token
        assert all(token in GENERIC_WORDS and w in GENERIC_WORDS for w in accepted - found), token


def test_names_of_one_search_key_get_the_same_hits():
    """search_key keys the engine's memo of searches: names sharing it must get equal hits."""
    listed = data.blocked_persons(1_000, 3)
    index = _index(listed)
    by_key: dict[tuple[object, ...], list[tuple[float, str, str]]] = {}
    shared = 0
    for x in listed[:150]:
        name = x.entry["name"]
        for query in (name, name.upper(), name.lower(), f" {name}. ", name.replace(" ", ", "), x.native or name):
            hits = [(h.score, h.name.form.original, h.comparison.rule) for h in index.search(query, POSSIBLE_MATCH)]
            key = search_key(query)
            shared += key in by_key
            assert by_key.setdefault(key, hits) == hits, query
    assert shared > 300  # the spellings do share keys, so the equality is not vacuous
    # A name in Cyrillic or Chinese characters is also read in Korean from its own letters.
    assert search_key("Ким Чен Ын")[0] == "raw"
    assert search_key("金正恩")[0] == "raw"
