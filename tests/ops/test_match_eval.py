"""`screener match-eval --list`, `explain-match` and `list-report` on a list in OFAC's layout written
here (synthetic names from the benchmark's generator, so no test depends on ../shared)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ops.bench import data
from ops.cli import main
from ops.match_eval import evaluate
from rules import load_rules


def write_ofac(folder: Path, count: int = 300) -> Path:
    """The benchmark's synthetic list written as OFAC's sdn.csv / alt.csv / add.csv, a few
    entries with a SWIFT/BIC in their remarks."""
    listed = data.blocked_persons(count, 11)
    with (
        (folder / "sdn.csv").open("w", newline="", encoding="latin-1", errors="replace") as sdn,
        (folder / "alt.csv").open("w", newline="", encoding="latin-1", errors="replace") as alt,
    ):
        sdn_rows, alt_rows = csv.writer(sdn), csv.writer(alt)
        for n, item in enumerate(listed, start=1):
            e = item.entry
            name = e["name"]
            if e["type"] == "individual":
                *given, surname = name.split(" ")
                name = f"{surname.upper()}, {' '.join(given)}"
            remarks = f"SWIFT/BIC SY{chr(65 + n)}{chr(66 + n)}IRTH" if n <= 10 and e["type"] == "entity" else "-0-"
            sdn_rows.writerow([n, name, "individual" if e["type"] == "individual" else "-0-", e["programs"][0]]
                              + ["-0-"] * 7 + [remarks])  # fmt: skip
            for k, alias in enumerate(e["aliases"], start=1):
                alt_rows.writerow([n, k, "aka", alias, "-0-"])
    (folder / "add.csv").write_text("")
    return folder


@pytest.fixture(scope="module")
def ofac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ofac(tmp_path_factory.mktemp("ofac"))


def test_generated_evaluation_reports_recall_and_clean_rates(ofac: Path) -> None:
    rules = load_rules(sanctions=ofac)
    report = evaluate(rules, seed=3, sample=150, clean=1500).as_dict()
    kinds = report["by_kind"]
    assert {"case", "order", "typo", "dropped_middle", "legal_form", "look_alike", "other_script"} <= set(kinds)
    assert report["recall_flagged"] >= 0.95, report["worst_missed"]
    for kind in ("case", "order", "alias", "look_alike"):
        if kind in kinds:
            assert kinds[kind]["blocked_of_sdn"] >= 0.97, (kind, report["worst_missed"])
    assert report["false_block_rate"] <= 0.002, report["worst_false_blocks"]
    assert report["false_review_rate"] <= 0.01, report["worst_false_reviews"]


def test_the_same_seed_gives_the_same_figures(ofac: Path) -> None:
    rules = load_rules(sanctions=ofac)
    first = evaluate(rules, seed=5, sample=40, clean=200).as_dict()
    second = evaluate(rules, seed=5, sample=40, clean=200).as_dict()
    assert first == second


def test_match_eval_command_prints_the_figures(ofac: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["match-eval", "--list", str(ofac), "--sample", "40", "--clean", "200", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["clean_names"] == 200 and report["recall_flagged"] is not None


def test_explain_match_shows_the_parts_and_the_verdict(ofac: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = data.blocked_persons(300, 11)
    person = next(x.entry for x in listed if x.entry["type"] == "individual")
    main(["explain-match", person["name"], "--sanctions", str(ofac), "--limit", "1"])
    out = capsys.readouterr().out
    assert "score 100" in out and "-> block" in out and "every distinctive word equal: True" in out


def test_list_report_counts_what_was_read(ofac: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["list-report", "--sanctions", str(ofac)])
    report = json.loads(capsys.readouterr().out)
    assert report["entries"] == {"SDN List": 300}
    assert report["bics"] >= 1 and report["unused"] == {}
