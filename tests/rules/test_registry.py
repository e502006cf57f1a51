"""The registry view (SPEC 1.2): lookups, parent chains, versions, validation."""

import pytest

from rules import RegistryError, registry_from_mapping
from rules.registry import parse_institution
from tests.conftest import account


def _reg(institutions):
    return registry_from_mapping({"accounts": [account()], "institutions": institutions})


def test_bic8_and_bic11_resolve_to_the_same_record():
    reg = _reg([{"bic": "CBSYSYDA", "name": "Commercial Bank of Syria"}])
    assert reg.institution_by_bic("CBSYSYDAXXX") is reg.institution_by_bic("CBSYSYDA")
    assert reg.institution_by_bic("CBSYSYDA123").name == "Commercial Bank of Syria"  # branch falls back to primary


def test_parent_chain_follows_branches_and_majority_ownership_only():
    reg = _reg(
        [
            {"bic": "AAAASYDAXXX", "name": "Top"},
            {
                "bic": "BBBBLBBXXXX",
                "kind": "subsidiary",
                "parent_bic": "AAAASYDAXXX",
                "parent_ownership_pct": 51,
            },
            {"bic": "CCCCCY2NXXX", "kind": "branch", "parent_bic": "BBBBLBBXXXX"},
            {
                "bic": "DDDDCY2NXXX",
                "kind": "subsidiary",
                "parent_bic": "AAAASYDAXXX",
                "parent_ownership_pct": 50,
            },
        ]
    )
    chain = reg.ancestors(reg.institution_by_bic("CCCCCY2N"))
    assert [(a.record.bic, a.relation) for a in chain] == [
        ("BBBBLBBXXXX", "branch"),
        ("AAAASYDAXXX", "subsidiary"),
    ]
    assert reg.ancestors(reg.institution_by_bic("DDDDCY2N")) == []


def test_version_depends_on_content_only():
    a = _reg([{"bic": "AAAASYDA", "name": "A"}, {"bic": "BBBBSYDA", "name": "B"}])
    b = _reg([{"bic": "BBBBSYDA", "name": "B"}, {"bic": "AAAASYDA", "name": "A"}])
    c = _reg([{"bic": "AAAASYDA", "name": "A2"}, {"bic": "BBBBSYDA", "name": "B"}])
    assert a.version == b.version != c.version


def test_upsert_and_tombstone_update_the_version():
    reg = _reg([{"bic": "AAAASYDA", "name": "A"}])
    before = reg.version
    reg.put_institution(parse_institution({"bic": "BBBBSYDA", "name": "B"}))
    assert reg.version != before
    reg.delete_institution("BBBBSYDA")
    assert reg.version == before
    assert reg.institution_by_bic("BBBBSYDA") is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accounts": [{"account_id": "X"}]}, "status"),
        ({"accounts": [account(), account()]}, "duplicate account_id"),
        ({"institutions": [{"bic": "NOPE"}]}, "not 8 or 11"),
        ({"accounts": [], "extra": []}, "unknown top-level keys"),
        ({"institutions": [{"bic": "AAAASYDA", "parent_ownership_pct": 150}]}, "parent_ownership_pct"),
    ],
)
def test_invalid_registry_data_is_a_clear_error(data, message):
    with pytest.raises(RegistryError, match=message):
        registry_from_mapping(data)
