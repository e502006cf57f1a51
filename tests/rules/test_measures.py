"""The measures as data: one file per section, validated when loaded, versioned by content."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from rules import RulesError, load_rules
from rules.bic import parse_bic
from rules.data_files import MEASURES_DIR

SECTIONS = ["1010.651", "1010.653", "1010.658", "1010.659", "1010.660", "1010.661"]

# Each final rule's DATES line, not its publication date nor the CFR source note's page.
EFFECTIVE = {
    "1010.651": (date(2004, 5, 12), "69 FR 19093"),
    "1010.653": (date(2006, 4, 14), "71 FR 13260"),
    "1010.658": (date(2015, 8, 28), "80 FR 45057"),
    "1010.659": (date(2016, 12, 9), "81 FR 78715"),
    "1010.660": (date(2017, 12, 8), "82 FR 51758"),
    "1010.661": (date(2019, 11, 14), "84 FR 59302"),
}


def test_every_special_measure_section_is_loaded(rules):
    assert [m.section for m in rules.measures] == SECTIONS
    assert sorted(rules.account_rules) == ["1010.610", "1010.630", "1010.670"]


def _measure(rules, section):
    return next(m for m in rules.measures if m.section == section)


def test_fbme_effective_date_is_the_one_the_final_rule_states(rules):
    fbme = _measure(rules, "1010.658")
    assert fbme.effective_date.isoformat() == "2015-08-28"


@pytest.mark.parametrize("section", SECTIONS)
def test_each_measure_applies_from_its_final_rules_effective_date(rules, section):
    measure = _measure(rules, section)
    effective, federal_register = EFFECTIVE[section]
    assert measure.effective.date == effective
    assert measure.effective_date == effective
    assert federal_register in measure.effective.source
    assert not measure.in_force(effective - timedelta(days=1))
    assert measure.in_force(effective)


def test_rules_report_prints_each_effective_date_with_its_source(rules):
    from ops.rules_report import rules_report, rules_table

    report = rules_report(rules)
    north_korea = next(m for m in report["special_measures"] if m["section"] == "31 CFR 1010.659")
    assert north_korea["effective_date"] == "2016-12-09"
    assert "81 FR 78715" in north_korea["effective_source"]
    table = rules_table(report)
    assert "[effective 2016-12-09]" in table
    assert "effective date: Final rule, 81 FR 78715" in table


def test_every_listed_name_and_bic_states_its_source(rules):
    for measure in rules.measures:
        for inst in measure.covered.institutions:
            assert inst.source.strip(), inst.name
            for b in inst.bics:
                assert b.source.strip(), b.bic


def test_every_bic_taken_from_ofac_names_its_entry_and_the_bic_itself(rules):
    for measure in rules.measures:
        for inst in measure.covered.institutions:
            for b in inst.bics:
                if b.source.startswith("OFAC"):
                    assert "entry " in b.source and b.bic in b.source, (inst.name, b)


def test_burma_covers_banks_only_and_the_others_any_financial_institution(rules):
    kinds = {m.section: m.covered.financial_institutions for m in rules.measures}
    assert kinds == {"1010.651": "banks"} | dict.fromkeys(SECTIONS[1:], "all")


def test_commercial_bank_of_syria_bic_is_cmsysyda_not_the_central_banks(rules):
    refs = rules.by_bic[parse_bic("CMSYSYDA").institution_key]
    assert [r.institution.name for r in refs] == ["Commercial Bank of Syria"]
    # CBSYSYDA is the Central Bank of Syria's (OFAC SDN entry 30663), which no section covers.
    assert parse_bic("CBSYSYDA").institution_key not in rules.by_bic


def test_syrian_lebanese_commercial_bank_bic_resolves_to_it(rules):
    refs = rules.by_bic[parse_bic("SYLCLBBEXXX").institution_key]
    assert [(r.measure.section, r.institution.name) for r in refs] == [("1010.653", "Syrian Lebanese Commercial Bank")]


def test_iranian_banks_subsidiaries_abroad_are_listed_with_their_ofac_bics(rules):
    by_bic = {k: [r.institution.name for r in refs] for k, refs in rules.by_bic.items()}
    assert by_bic["BKMTAM"] == ["Mellat Bank CJSC"]
    assert by_bic["SEPBGB"] == ["Bank Sepah International plc"]
    assert by_bic["MELIHK"] == by_bic["MELIGB"] == ["Melli Bank plc"]


def test_account_rule_dates_state_their_source(rules):
    legacy = rules.account_rules["1010.630"].checks["legacy_certification"]
    assert legacy.setting("existing_on") == date(2002, 10, 28)
    assert "1010.630(d)(1)" in legacy.setting("existing_on_source")
    assert "1010.630(d)(1)" in legacy.setting("first_due_source")
    fatf = rules.account_rules["1010.610"].checks["fatf_call_for_action"]
    assert "FATF" in fatf.setting("jurisdictions_source")
    assert fatf.setting("list_as_of_source")


def test_account_closure_checks_are_loaded(rules):
    checks = rules.account_rules["1010.610"].checks
    assert (checks["account_closed"].action, checks["account_closing"].action) == ("block", "review")
    assert checks["account_closed"].setting("closure_action") == "info"


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


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_invalid_bic_in_a_measure_is_rejected(measures_copy: Path):
    _edit(measures_copy / "1010_653_commercial_bank_of_syria.yaml", "- bic: CMSYSYDA", "- bic: CMSYZZDA")
    with pytest.raises(RulesError, match=r"1010_653_commercial_bank_of_syria.yaml: .*bics\.0\.bic: .*CMSYZZDA"):
        load_rules(measures_copy)


def test_bic_without_its_source_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_659_north_korea.yaml"
    _edit(
        path,
        '          source: "OFAC SDN list, entry 16085 (DAEDONG CREDIT BANK), remarks: SWIFT/BIC DCBKKPPY"\n',
        "",
    )
    with pytest.raises(RulesError, match=r"1010_659_north_korea.yaml: covered\.institutions\.2\.bics\.0\.source"):
        load_rules(measures_copy)


def test_bic_with_a_blank_source_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_661_iran.yaml"
    _edit(path, '"OFAC SDN list, entry 25019 (BANK MELLAT), remarks: SWIFT/BIC BKMTIRTH"', '"  "')
    with pytest.raises(RulesError, match=r"1010_661_iran.yaml: covered\.institutions\.\d+\.bics\.0\.source"):
        load_rules(measures_copy)


def test_institution_without_its_source_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_660_bank_of_dandong.yaml"
    text = path.read_text()
    start = text.index("      source: >-\n", text.index("- name: Bank of Dandong Co., Ltd."))
    end = text.index("      aliases:", start)
    path.write_text(text[:start] + text[end:])
    with pytest.raises(RulesError, match=r"1010_660_bank_of_dandong.yaml: covered\.institutions\.0\.source: Field req"):
        load_rules(measures_copy)


def test_measure_without_its_effective_date_source_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_653_commercial_bank_of_syria.yaml"
    text = path.read_text()
    start = text.index("  source:", text.index("effective:"))
    end = text.index("covered:", start)
    path.write_text(text[:start] + text[end:])
    with pytest.raises(RulesError, match=r"1010_653_commercial_bank_of_syria.yaml: effective\.source: Field required"):
        load_rules(measures_copy)


@pytest.mark.parametrize(
    ("file", "setting"),
    [
        ("1010_630_shell_banks_certification.yaml", "existing_on"),
        ("1010_630_shell_banks_certification.yaml", "first_due"),
        ("1010_610_enhanced_due_diligence.yaml", "list_as_of"),
    ],
)
def test_account_date_setting_without_its_source_is_rejected(measures_copy: Path, file: str, setting: str):
    path = measures_copy / file
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{setting}_source:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith(" " * 6):  # a folded (>-) value's lines
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]))
    with pytest.raises(RulesError, match=rf"{file}: checks\.\w+: .*{setting!r} lacks its source"):
        load_rules(measures_copy)


def test_fatf_jurisdictions_without_their_source_are_rejected(measures_copy: Path):
    path = measures_copy / "1010_610_enhanced_due_diligence.yaml"
    text = path.read_text()
    start = text.index("    jurisdictions_source:")
    end = text.index("    list_as_of:", start)
    path.write_text(text[:start] + text[end:])
    message = r"1010_610_enhanced_due_diligence.yaml: checks\.fatf_call_for_action: .*'jurisdictions' lacks its source"
    with pytest.raises(RulesError, match=message):
        load_rules(measures_copy)


def test_account_date_setting_with_a_blank_source_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_630_shell_banks_certification.yaml"
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.lstrip().startswith("existing_on_source:"))
    path.write_text(text.replace(line, '    existing_on_source: ""'))
    message = r"1010_630_shell_banks_certification.yaml: checks\.legacy_certification: .*non-empty"
    with pytest.raises(RulesError, match=message):
        load_rules(measures_copy)


def test_missing_account_closure_check_is_rejected(measures_copy: Path):
    path = measures_copy / "1010_610_enhanced_due_diligence.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("  account_closing:")])
    with pytest.raises(RulesError, match=r"1010\.610: missing checks \['account_closing'\]"):
        load_rules(measures_copy)


def test_missing_account_rules_file_is_rejected(measures_copy: Path):
    (measures_copy / "1010_670_termination.yaml").unlink()
    with pytest.raises(RulesError, match=r"1010\.670"):
        load_rules(measures_copy)


@pytest.mark.parametrize(
    ("check", "account_change", "field"),
    [
        (
            "shell_bank",
            {"holder": {"bic": "SHELKYKY", "license": "offshore", "shell_bank": True}},
            "account.holder.shell",
        ),
        ("unknown_account", None, "correspondent_account_id"),
        ("certification", {"certified_on": None, "opened_on": "2020-01-01"}, "account.certified_on"),
    ],
)
def test_the_engine_takes_each_account_rules_action_from_its_measure_file(measures_copy, check, account_change, field):
    """One source of truth: an account rule's `action:` in its file is the action of its hits."""
    from rules import parse_payment, screen
    from tests.conftest import SCREENED_AT, account, payment, registry

    file = next(measures_copy.glob("1010_630_*.yaml" if check != "unknown_account" else "1010_610_*.yaml"))
    text = file.read_text()
    start = text.index(f"  {check}:\n")
    body_end = text.index("\n  ", text.index("action:", start))
    changed = (
        text[:start]
        + text[start:body_end].replace("action: block", "action: info").replace("action: review", "action: info")
        + text[body_end:]
    )
    file.write_text(changed)
    reg = registry([account("ACC-1", **account_change)]) if account_change else registry([])
    pay = parse_payment(payment())
    before = screen(pay, reg, load_rules(), SCREENED_AT)
    after = screen(pay, reg, load_rules(measures_copy), SCREENED_AT)
    [was] = [h for h in before.hits if h.field.startswith(field)]
    [now] = [h for h in after.hits if h.field.startswith(field)]
    assert was.action in ("block", "review") and now.action == "info"
