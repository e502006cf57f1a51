"""Every case of the examiners' corpora (tests/golden/regulation*, see their READMEs) decides as expected."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules import parse_payment, registry_from_mapping, screen
from tests.conftest import SCREENED_AT

GOLDEN = Path(__file__).parents[1] / "golden"
CORPORA = ("regulation", "regulation_2")
SPECIAL_MEASURES = {"1010.651", "1010.653", "1010.658", "1010.659", "1010.660", "1010.661"}
# Known gaps, each with the issue that closes it; strict, so a fix is noticed.
KNOWN_GAPS: dict[str, str] = {}


def _load(corpus: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    folder = GOLDEN / corpus
    expected = {e["id"]: e for e in json.loads((folder / "expected.json").read_text(encoding="utf-8"))}
    lines = (folder / "payments.jsonl").read_text(encoding="utf-8").splitlines()
    return expected, {p["payment_id"]: p for p in map(json.loads, lines)}


LOADED = {corpus: _load(corpus) for corpus in CORPORA}
CASES = [
    pytest.param(corpus, case, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[f"{corpus}/{case}"])])
    if f"{corpus}/{case}" in KNOWN_GAPS
    else pytest.param(corpus, case)
    for corpus in CORPORA
    for case in sorted(LOADED[corpus][0])
]


@pytest.fixture(scope="module")
def registries():
    return {
        corpus: registry_from_mapping(yaml.safe_load((GOLDEN / corpus / "registry.yaml").read_text(encoding="utf-8")))
        for corpus in CORPORA
    }


def _sections(citations):
    return {m.group(0) for c in citations if (m := re.search(r"1010\.\d{3}", c))}


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_case_has_a_payment(corpus):
    expected, payments = LOADED[corpus]
    assert set(expected) == set(payments)


@pytest.mark.parametrize(("corpus", "case"), CASES)
def test_case_decides_as_expected(rules, registries, corpus, case):
    expected, payments = LOADED[corpus]
    want = expected[case]
    d = screen(parse_payment(payments[case]), registries[corpus], rules, SCREENED_AT)
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
