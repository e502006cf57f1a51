"""Name normalisation, scoring, BICs and the candidate index."""

import pytest

from rules.bic import BicError, parse_bic
from rules.name_forms import name_form
from rules.name_index import NameIndex
from rules.names import normalize_name
from rules.similarity import POSSIBLE_MATCH, STRONG_MATCH, score_names


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("F.B.M.E. Bank Limited", "fbme bank"),
        ("Bank of Dandong Co., Ltd.", "bank dandong"),
        ("Bank of Dandong, Shenyang Branch", "bank dandong"),
        ("FBME Bank Moscow Representative Office", "fbme bank"),
        ("CH'OE Ch'ol-min", "choe chol min"),
        ("Bank  Melli   Īrān", "bank melli iran"),
        ("丹东银行", "dan dong yinhang"),
    ],
)
def test_normalisation(raw, canonical):
    assert normalize_name(raw) == canonical


def test_strong_score_for_a_variant_and_low_for_a_look_alike():
    assert (
        score_names(name_form("Korea Kwangson Bank"), name_form("Korea Kwangson Banking Corporation")) >= STRONG_MATCH
    )
    assert score_names(name_form("Commercial Bank of Ceylon"), name_form("Commercial Bank of Syria")) < POSSIBLE_MATCH
    assert score_names(name_form("Dandong Trading Co"), name_form("Bank of Dandong")) < POSSIBLE_MATCH


def test_contained_listed_name_is_strong():
    assert (
        score_names(name_form("Commercial Bank of Syria, Damascus"), name_form("Commercial Bank of Syria"))
        >= STRONG_MATCH
    )


def test_bic_parts_and_forms():
    bic = parse_bic("kkbc kp py")
    assert (bic.country, bic.bic11, bic.institution_key, bic.is_primary_office) == (
        "KP",
        "KKBCKPPYXXX",
        "KKBCKP",
        True,
    )
    assert not parse_bic("DEUTDEFF500").is_primary_office


@pytest.mark.parametrize("bad", ["DEUT", "DEUTDEFF5", "DEUTZZFF", "1234DEFF"])
def test_invalid_bics_are_rejected(bad):
    with pytest.raises(BicError):
        parse_bic(bad)


def test_index_finds_candidates_without_scanning_everything():
    index = NameIndex([(f"Trading House {i:05d} Ltd", i, False) for i in range(5000)] + [("Choe Chol Min", -1, False)])
    assert len(index.candidates(name_form("Choe Cholmin"))) < 10
    assert [h.name.payload for h in index.search("CHOE, Chol Min", STRONG_MATCH)] == [-1]


def test_index_finds_names_in_free_text_but_not_short_weak_ones():
    index = NameIndex([("Bank of Dandong", "dd", False), ("CBS", "cbs", True)])
    assert [n.payload for n in index.find_in_text("paid via Bank of Dandong Co Ltd")] == ["dd"]
    assert index.find_in_text("CBS news subscription") == []
