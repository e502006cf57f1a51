"""A replay's counts: transitions, the rules and paragraphs behind them, and the closing JSON line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ops.replay.compare import Change


def _one_or_list(values: list[str]) -> str | list[str] | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


@dataclass
class Tally:
    """What a replay found, payment by payment."""

    replayed: int = 0
    dead_lettered: int = 0
    not_recorded: int = 0
    changed: int = 0
    hits_changed: int = 0
    unchanged: int = 0
    # A payment id met again with no recorded decision of its own; a payment no registry was found for.
    repeated: int = 0
    no_registry: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    # Payments whose changed or re-reasoned decision gained (+) or lost (-) a hit of the rule/paragraph.
    by_rule: Counter[str] = field(default_factory=Counter)
    by_citation: Counter[str] = field(default_factory=Counter)
    rules_before: Counter[str] = field(default_factory=Counter)
    registries: Counter[str] = field(default_factory=Counter)

    def add(self, change: Change, registry_version: str | None, repeated: bool = False) -> None:
        """One payment compared; `registry_version` is the new decision's (None: not decided)."""
        if registry_version is not None:
            self.replayed += 1
            self.decisions[change.after] += 1
            self.registries[registry_version] += 1
        else:
            self.dead_lettered += 1
        if repeated:
            self.repeated += 1
            return
        if not change.recorded:
            self.not_recorded += 1
            return
        if change.rules_version_before:
            self.rules_before[change.rules_version_before] += 1
        if change.changed:
            self.changed += 1
            self.transitions[change.transition] += 1
        elif change.hits_changed:
            self.hits_changed += 1
        else:
            self.unchanged += 1
        if change.changed or change.hits_changed:
            for sign, hits in (("+", change.hits_added), ("-", change.hits_removed)):
                for rule in {str(h.get("rule")) for h in hits}:
                    self.by_rule[sign + rule] += 1
                for citation in {str(h.get("citation")) for h in hits}:
                    self.by_citation[sign + citation] += 1

    def bad_input(self) -> None:
        """An input that gave no payment at all (a line that is not a payment)."""
        self.dead_lettered += 1

    def line(self, rules_after: str, seconds: float, jobs: int, outputs: dict[str, str]) -> dict[str, Any]:
        """The closing JSON object (the last line on stdout)."""
        return {
            "replayed": self.replayed,
            "changed": self.changed,
            "transitions": dict(sorted(self.transitions.items())),
            "hits_changed": self.hits_changed,
            "unchanged": self.unchanged,
            "not_recorded": self.not_recorded,
            "repeated": self.repeated,
            "no_registry": self.no_registry,
            "dead_lettered": self.dead_lettered,
            "decisions": {k: self.decisions.get(k, 0) for k in ("block", "review", "pass")},
            "by_rule": dict(sorted(self.by_rule.items())),
            "by_citation": dict(sorted(self.by_citation.items())),
            "rules_version_before": _one_or_list([v for v, _ in self.rules_before.most_common()]),
            "rules_version_after": rules_after,
            "registry_version": _one_or_list([v for v, _ in self.registries.most_common()]),
            "seconds": round(seconds, 3),
            "per_second": round(self.replayed / seconds, 1) if seconds > 0 else 0.0,
            "jobs": jobs,
            "outputs": outputs,
        }

    def table(self) -> str:
        """The summary an operator reads: transitions, then rules and paragraphs, gained and lost."""
        lines = [
            (
                f"replayed {self.replayed} payments: {self.changed} changed decision, "
                f"{self.hits_changed} same decision with other hits, {self.not_recorded} with no recorded "
                f"decision, {self.repeated} repeated ids, {self.no_registry} without a registry, "
                f"{self.dead_lettered} dead-lettered"
            ),
        ]
        sections = (
            ("transition", self.transitions),
            ("rule (+ gained, - lost)", self.by_rule),
            ("citation (+ gained, - lost)", self.by_citation),
        )
        for title, counts in sections:
            if not counts:
                continue
            width = max(len(title), *(len(k) for k in counts))
            lines += ["", f"{title:<{width}}  payments", f"{'-' * width}  --------"]
            lines += [f"{key:<{width}}  {count:>8}" for key, count in sorted(counts.items())]
        if not self.transitions:
            lines += ["", "no decision changed"]
        return "\n".join(lines)
