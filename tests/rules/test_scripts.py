"""Scripts written without spaces (rules/scripts.py): words found, then romanised as words."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rules import Decision
from rules.names import name_tokens
from rules.scripts import has_spaceless_script, spell_spaceless
from tests.conftest import payment


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        # Pinyin of words: 银行 is "yinhang" (ICU alone reads 行 "xing"), 朝鲜 one word.
        ("朝鲜对外贸易银行", ("chaoxian", "duiwai", "maoyi", "yinhang")),
        ("中国工商银行", ("zhongguo", "gongshang", "yinhang")),
        # Thai and Burmese: the dictionary's words, not one run of letters.
        ("ธนาคารกรุงเทพ", ("thnakhar", "krungtheph")),
        ("မြန်မာ့စီးပွားရေးဘဏ်", ("myanmar", "hce", "pwar", "ray", "bhan")),
    ],
)
def test_words_of_a_spaceless_script(name: str, tokens: tuple[str, ...]) -> None:
    assert name_tokens(name) == tokens


def test_other_text_is_left_as_it_was() -> None:
    assert spell_spaceless("Bank Melli Iran") == "Bank Melli Iran"
    assert not has_spaceless_script("조선무역은행")  # Korean is written with spaces
    assert has_spaceless_script("Bank of 丹东")


def test_a_chinese_bank_name_in_pinyin_finds_its_listing(decide: Callable[..., Decision]) -> None:
    # 1010.660's measure file lists 丹东银行; a payment writes it in pinyin.
    decision = decide(payment(intermediary_agents=[{"name": "Dandong Yinhang", "country": "CN"}]))
    assert decision.decision == "block"
    assert "31 CFR 1010.660(b)(2)" in decision.citations


@pytest.mark.parametrize("name", ["缅甸国家银行", "မြန်မာနိုင်ငံတော်ဘဏ်"])
def test_a_bank_named_for_burma_in_its_own_or_chinese_script_is_reviewed(
    decide: Callable[..., Decision], name: str
) -> None:
    # Not a listed name: its words say a Burmese bank (1010.651(a)(1)), a possible match.
    decision = decide(payment(intermediary_agents=[{"name": name}]))
    assert decision.decision == "review"
    assert any(h.citation.startswith("31 CFR 1010.651") for h in decision.hits)
