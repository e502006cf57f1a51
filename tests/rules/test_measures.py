"""The measures as data: one file per section, validated when loaded, versioned by content."""

import shutil
from pathlib import Path

import pytest

from rules import RulesError, load_rules
from rules.catalog import MEASURES_DIR

SECTIONS = ["1010.651", "1010.653", "1010.658", "1010.659", "1010.660", "1010.661"]


def test_every_special_measure_section_is_loaded(rules):
    assert [m.section for m in rules.measures] == SECTIONS
    assert sorted(rules.account_rules) == ["1010.610", "1010.630", "1010.670"]


def test_fbme_effective_date_is_the_one_the_final_rule_states(rules):
    fbme = next(m for m in rules.measures if m.section == "1010.658")
    assert fbme.effective_date.isoformat() == "2015-08-28"


def test_notice_text_for_every_section_but_burmas(rules):
    assert [m.section for m in rules.measures if m.paragraphs.notice is None] == ["1010.651"]


@pytest.fixture
def measures_copy(tmp_path: Path) -> Path:
    target = tmp_path / "measures"
    shutil.copytree(MEASURES_DIR, target)
    return target


def test_rules_version_is_derived_from_content(measures_copy: Path):
    before = load_rules(measures_copy).version
    assert load_rules(measures_copy).version == before
    path = measures_copy / "1010_660_bank_of_dandong.yaml"
    path.write_text(path.read_text().replace("- Dandong Bank\n", "- Dandong Bank\n        - Dandong City Bank\n"))
    assert load_rules(measures_copy).version != before


def test_invalid_field_is_reported_with_file_and_path(measures_copy: Path):
    path = measures_copy / "1010_659_north_korea.yaml"
    path.write_text(path.read_text().replace("action: block", "action: stop", 1))
    with pytest.raises(RulesError, match=r"1010_659_north_korea.yaml: paragraphs.direct_use.action"):
        load_rules(measures_copy)


def test_invalid_bic_in_a_measure_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_653_commercial_bank_of_syria.yaml"
    path.write_text(path.read_text().replace("bics: [CBSYSYDA]", "bics: [CBSYZZDA]"))
    with pytest.raises(RulesError, match="CBSYZZDA"):
        load_rules(measures_copy)


def test_missing_account_rules_file_is_rejected(measures_copy: Path):
    (measures_copy / "1010_670_termination.yaml").unlink()
    with pytest.raises(RulesError, match=r"1010\.670"):
        load_rules(measures_copy)
