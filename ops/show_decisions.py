"""Print decisions (JSON Lines on stdin) as a table a person can read: the README's first command."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

_STYLE = {"block": "bold red", "review": "yellow", "pass": "green"}


def decisions_table(decisions: Iterable[dict[str, Any]]) -> Table:
    table = Table(title="Screening decisions", show_lines=False, expand=True)
    table.add_column("payment", no_wrap=True)
    table.add_column("decision", no_wrap=True)
    table.add_column("citations")
    table.add_column("first reason", ratio=3)
    for d in decisions:
        hits = d.get("hits", [])
        reason = hits[0]["reason"] if hits else ""
        table.add_row(
            d["payment_id"],
            f"[{_STYLE.get(d['decision'], '')}]{d['decision']}[/]",
            "\n".join(d.get("citations", [])),
            reason,
        )
    return table


def main() -> None:
    decisions = [json.loads(line) for line in sys.stdin if line.strip()]
    console = Console(width=max(Console().width, 140))
    console.print(decisions_table(decisions))
    counts = {k: sum(1 for d in decisions if d["decision"] == k) for k in ("block", "review", "pass")}
    console.print(f"{len(decisions)} decisions: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
