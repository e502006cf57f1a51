"""What `screener rules` shows: every measure, its effective date and source, the checks it drives, the versions."""

from __future__ import annotations

from typing import Any

from rules.catalog import RuleSet
from rules.measure_files import AccountCheck


def _actions(check: AccountCheck) -> str:
    if check.action:
        return str(check.action)
    extra = check.model_extra or {}
    return f"{extra.get('within_action')} within the period, {extra.get('after_action')} after"


def rules_report(rules: RuleSet) -> dict[str, Any]:
    """A plain description of the loaded rules, for a compliance officer or a machine."""
    measures: list[dict[str, Any]] = []
    for m in rules.measures:
        p = m.paragraphs
        checks = [
            f"direct use {m.cite(p.direct_use.paragraph)}: {p.direct_use.action}",
            f"indirect use {m.cite(p.indirect_use.paragraph)}: {p.indirect_use.action}",
            f"nested use {m.cite(p.investigate.paragraph)}: {p.investigate.action}",
        ]
        if p.exception is not None:
            where = (
                m.cite(p.exception.paragraph) if p.exception.paragraph else (f"{m.citation}(b)(1)-(b)(2), OFAC proviso")
            )
            checks.append(f"authorised exception {where}: {p.exception.action}")
        checks.append(f"notice {m.cite(p.notice.paragraph)}: once per account" if p.notice else "notice: none required")
        covers = []
        if m.covered.jurisdictions:
            covers.append("licensed in " + "/".join(m.covered.jurisdictions))
        if m.covered.located_in:
            covers.append("located in " + "/".join(m.covered.located_in))
        covers.append(
            "foreign banks only" if m.covered.financial_institutions == "banks" else "any foreign financial institution"
        )
        covers.append(f"{len(m.covered.institutions)} named institutions")
        covers.append("with " + ", ".join(m.covered.includes))
        measures.append(
            {
                "section": m.citation,
                "title": m.title,
                "effective_date": m.effective.date.isoformat(),
                "effective_source": m.effective.source,
                "covers": "; ".join(covers),
                "checks": checks,
            }
        )
    accounts = [
        {
            "section": r.citation,
            "title": r.title,
            "checks": [f"{name} {r.cite(name)}: {_actions(c)}" for name, c in r.checks.items()],
        }
        for r in sorted(rules.account_rules.values(), key=lambda r: r.section)
    ]
    return {
        "rules_version": rules.version,
        "measures_version": rules.measures_version,
        "special_measures": measures,
        "account_rules": accounts,
        "blocked_persons": {
            "source": rules.sanctions.source,
            "persons": len(rules.sanctions.persons),
            "owned_entities": sum(1 for p in rules.sanctions.persons if p.owned_by),
            "version": rules.sanctions.version,
        },
        "look_alikes": len(rules.look_alikes),
        "calendar": {"timezone": rules.calendar.timezone, "holidays": rules.calendar.holidays},
    }


def rules_table(report: dict[str, Any]) -> str:
    """The report as text that reads at a glance."""
    lines = [f"rules_version {report['rules_version']}", "", "Special measures (31 CFR 1010.651-661)"]
    for m in report["special_measures"]:
        lines.append(f"  {m['section']}  {m['title']}  [effective {m['effective_date']}]")
        lines.append(f"      effective date: {m['effective_source']}")
        lines.append(f"      covers: {m['covers']}")
        lines.extend(f"      - {c}" for c in m["checks"])
    lines += ["", "Account rules"]
    for r in report["account_rules"]:
        lines.append(f"  {r['section']}  {r['title']}")
        lines.extend(f"      - {c}" for c in r["checks"])
    bp = report["blocked_persons"]
    lines += [
        "",
        f"Blocked persons: {bp['persons']} ({bp['owned_entities']} by ownership) from {bp['source']}",
        f"Look-alikes suppressed: {report['look_alikes']}",
        f"Calendar: {report['calendar']['holidays']} federal holidays, dates in {report['calendar']['timezone']}",
    ]
    return "\n".join(lines)
