"""Commands about name matching: how well it does (`match-eval`), why a name matched
(`explain-match`), and what a list load used (`list-report`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ops.cli.common import DEFAULT_CORPUS, RulesOpt, SanctionsOpt, UsageError, app, load_ruleset


@app.command("match-eval")
def match_eval(
    corpus: Annotated[Path, typer.Option("--corpus", help="Golden name pairs CSV.")] = DEFAULT_CORPUS,
    listed: Annotated[
        Path | None,
        typer.Option(
            "--list",
            help="A list in OFAC's layout (folder with sdn.csv and/or cons_prim.csv): evaluate on variants of "
            "its names and on ordinary clean names generated from --seed, instead of the corpus.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated cases (same seed, same figures).")] = 7,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Listed entries drawn for variants.")] = 1500,
    clean: Annotated[int, typer.Option("--clean", min=0, help="Ordinary names generated.")] = 20_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every pair that went wrong.")] = False,
) -> None:
    """Measure name matching: precision and recall on the golden corpus, or (--list) recall on
    realistic variants and false block / review rates on clean names."""
    if listed is not None:
        _generated_eval(listed, rules_dir, seed, sample, clean, as_json, worst=50 if verbose else 15)
        return
    from rules.evaluation import evaluate, read_pairs

    try:
        pairs = read_pairs(corpus.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot use corpus {corpus}: {exc}") from None
    result = evaluate(load_ruleset(rules_dir, sanctions, None), pairs)
    print(
        f"pairs {result.total}: should-match {result.true_pos + result.false_neg}, "
        f"must-not-match {result.false_pos + result.true_neg}"
    )
    print(
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  "
        f"(true pos {result.true_pos}, false pos {result.false_pos}, false neg {result.false_neg}, "
        f"true neg {result.true_neg}; possible-match reviews on must-not-match {result.reviews_on_no_match})"
    )
    for err in result.errors if verbose else result.errors[:10]:
        print(f"  {err}")


def _generated_eval(
    listed: Path, rules_dir: Path | None, seed: int, sample: int, clean: int, as_json: bool, worst: int
) -> None:
    from ops.match_eval import evaluate

    rules = load_ruleset(rules_dir, listed, None)
    started = time.perf_counter()
    try:
        report = evaluate(rules, seed=seed, sample=sample, clean=clean).as_dict(worst)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    report["seconds"] = round(time.perf_counter() - started, 1)
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"list {rules.sanctions.source}; seed {seed}; {report['entries_sampled']} entries drawn")
    print(f"variants flagged (block or review): {_pct(report['recall_flagged'])}")
    for kind, figures in report["by_kind"].items():
        blocked = figures["blocked_of_sdn"]
        print(
            f"  {kind:<15} {figures['variants']:>6}  flagged {_pct(figures['flagged'])}"
            + (f"  blocked (SDN entries) {_pct(blocked)}" if blocked is not None else "")
        )
    print(
        f"clean names {report['clean_names']}: false blocks {_pct(report['false_block_rate'], 3)}, "
        f"false reviews {_pct(report['false_review_rate'], 3)}"
    )
    for title, key in (
        ("misses (not flagged, or only reviewed where the variant should block)", "worst_missed"),
        ("false blocks", "worst_false_blocks"),
        ("false reviews", "worst_false_reviews"),
    ):
        if report[key]:
            print(f"worst {title}:")
            for line in report[key]:
                print(f"  {line}")


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


@app.command("explain-match")
def explain_match(
    name: Annotated[str, typer.Argument(help="A name as a payment gives it.")],
    country: Annotated[
        str | None, typer.Option("--country", help="The party's country, if the payment gives one.")
    ] = None,
    rules_dir: RulesOpt = None,
    sanctions: SanctionsOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Listed names shown.")] = 5,
) -> None:
    """Explain every part of a name's scores against the list: the words paired, their similarity
    and weight, what is missing or added, the rule that set the score, and the policy's verdict."""
    from rules.checks.blocked_persons import person_matches
    from rules.name_forms import name_form
    from rules.similarity import POSSIBLE_MATCH

    rules = load_ruleset(rules_dir, sanctions, None)
    form = name_form(name)
    print(f"{name!r} -> words {list(form.tokens)} (weights {list(form.weights)})")
    hits = rules.sanctions.index.scan(name, POSSIBLE_MATCH - 20)[:limit]
    if not hits:
        print("no listed name scores 60 or more")
    acted = {m.person.id: m for m in person_matches(rules, name, country)}
    from rules.similarity import compare_names

    for hit in hits:
        person = hit.name.payload
        c = hit.comparison  # the verdict's: with the index's common-name and weak-alias rules
        words = compare_names(form, hit.name.form, detail=True)  # the same comparison, with its word pairs
        verdict = "block" if c.strong else "review" if c.possible else "no match"
        match = acted.get(person.id)
        if match is not None and verdict != "no match" and not match.strong:
            verdict = "review" + (" (country contradicts)" if match.contradicted else "")
        elif match is None and verdict != "no match":
            verdict += " (suppressed: a known look-alike, or a better name of the same entry)"
        if verdict.startswith("block") and not person.blocks:
            verdict = "review (Consolidated, non-SDN list)"
        print(
            f"\n{hit.name.form.original!r} [{person.id}, {person.list_name}]: score {c.score:g}, {c.rule} -> {verdict}"
        )
        print(f"  listed words {list(hit.name.form.tokens)}; every distinctive word equal: {c.exact}")
        for part in words.parts:
            print(f"  {part.listed:<16} ~ {part.query:<16} similarity {part.similarity:<6g} weight {part.weight:g}")
        if c.missing:
            print(f"  missing from the payment's name: {list(c.missing)}")
        if c.extra:
            print(f"  added by the payment's name: {list(c.extra)}")


@app.command("list-report")
def list_report(
    sanctions: SanctionsOpt = None,
) -> None:
    """Load a list (OFAC folder or YAML) and report what was read and what was not used."""
    from rules.sanctions_files import SanctionsError, load_sanctions

    started = time.perf_counter()
    try:
        listed = load_sanctions(sanctions)
    except SanctionsError as exc:
        raise UsageError(str(exc)) from None
    report: dict[str, Any] = {
        "source": listed.source,
        "version": listed.version,
        "entries": len(listed.persons),
        "names_indexed": len(listed.index),
        "load_seconds": round(time.perf_counter() - started, 2),
        **listed.load_report,
    }
    print(json.dumps(report, indent=2))
