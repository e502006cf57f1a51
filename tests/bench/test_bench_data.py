"""The benchmark's synthetic data: reproducible, valid, and mixed as documented."""

from collections import Counter

from ops.bench import data
from rules import parse_payment
from rules.registry import registry_from_mapping
from rules.sanctions_files import persons_from_entries


def test_same_seed_same_data_other_seed_other_data():
    a = [x.entry for x in data.blocked_persons(300, 11)]
    b = [x.entry for x in data.blocked_persons(300, 11)]
    c = [x.entry for x in data.blocked_persons(300, 12)]
    assert a == b
    assert a != c
    reg = data.registry(11)
    p1 = [g.payment for g in data.payments(200, 11, data.blocked_persons(300, 11), reg)]
    p2 = [g.payment for g in data.payments(200, 11, data.blocked_persons(300, 11), reg)]
    assert p1 == p2


def test_every_generated_record_meets_the_contracts():
    listed = data.blocked_persons(500, 5)
    persons = persons_from_entries(x.entry for x in listed)
    assert len(persons) == 500
    assert len({p.id for p in persons}) == 500
    assert any(x.native for x in listed)  # some names in their own script
    reg = data.registry(5)
    registry_from_mapping(reg)  # raises if any account is invalid
    kinds: Counter[str] = Counter()
    for g in data.payments(3_000, 5, listed, reg):
        parse_payment(g.payment)  # raises if invalid
        kinds[g.kind] += 1
    assert kinds["clean"] > 2_500
    assert set(kinds) == {"clean", *data.MIX}


def test_counterparties_recur_and_one_offs_do_not():
    listed = data.blocked_persons(100, 5)
    reg = data.registry(5)
    names = Counter(g.payment["debtor"]["name"] for g in data.payments(2_000, 5, listed, reg))
    assert names.most_common(1)[0][1] >= 20  # the most frequent counterparty recurs
    fresh = Counter(g.payment["debtor"]["name"] for g in data.payments(2_000, 5, listed, reg, one_off=1.0))
    assert fresh.most_common(1)[0][1] < 20
