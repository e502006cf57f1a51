"""Every case of tests/golden/regulation decides as the examiner expects (see its README)."""

import json
import re
from pathlib import Path

import pytest
import yaml

from rules import parse_payment, registry_from_mapping, screen
from tests.conftest import SCREENED_AT

CORPUS = Path(__file__).parents[1] / "golden" / "regulation"
SPECIAL_MEASURES = {"1010.651", "1010.653", "1010.658", "1010.659", "1010.660", "1010.661"}
EXPECTED = {e["id"]: e for e in json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))}
PAYMENTS = {
    p["payment_id"]: p for p in map(json.loads, (CORPUS / "payments.jsonl").read_text(encoding="utf-8").splitlines())
}


@pytest.fixture(scope="module")
def corpus_registry():
    return registry_from_mapping(yaml.safe_load((CORPUS / "registry.yaml").read_text(encoding="utf-8")))


def _sections(citations):
    return {m.group(0) for c in citations if (m := re.search(r"1010\.\d{3}", c))}


def test_every_case_has_a_payment():
    assert set(EXPECTED) == set(PAYMENTS)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_decides_as_expected(rules, corpus_registry, case):
    want = EXPECTED[case]
    d = screen(parse_payment(PAYMENTS[case]), corpus_registry, rules, SCREENED_AT)
    assert d.decision in (want["expect"], *want["also_ok"]), f"{case}: {want['why']}; hits: {d.hits}"
    if d.decision == want["expect"] == "block" and want["section"] in SPECIAL_MEASURES:
        blocked = _sections(h.citation for h in d.hits if h.action == "block")
        assert want["section"] in blocked, case
        assert not (blocked & SPECIAL_MEASURES) - {want["section"]}, f"{case} also blocks under {blocked}"
    notices = sorted({n.section for n in d.notices})
    if want.get("notice") == "none":
        assert notices == [], case
    elif want.get("notice"):
        assert notices == [want["notice"]], case
    assert "1010.651" not in notices  # 1010.651(b)(4): Burma requires no notice
