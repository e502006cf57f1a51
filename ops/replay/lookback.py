"""The lookback report: the past payments the new rules would now block or hold, for an investigator.

One row per payment whose replayed decision is `block` or `review` and differs from the recorded
one (a new outcome, or the same outcome for new reasons): its id, date, amount, parties, the
decision before and after, each new hit with its field, listed entry, score and paragraph. Written
as CSV (for a case system or a spreadsheet) and as a self-contained HTML page (to read and file).
"""

from __future__ import annotations

import csv
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ops.replay.compare import Change

COLUMNS = (
    "payment_id",
    "created_at",
    "amount",
    "currency",
    "debtor",
    "creditor",
    "correspondent_account_id",
    "before",
    "after",
    "new_hits",
    "citations",
    "source",
)

# A cell a spreadsheet would run as a formula (CWE-1236): payment text is not trusted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Row:
    change: Change
    facts: Mapping[str, Any]
    source: str

    def hits(self) -> str:
        return "; ".join(
            f"{h.get('action')} {h.get('rule')}: {h.get('field')} = {h.get('value')!s} ~ {h.get('matched')} "
            f"(score {h.get('score')}, {h.get('citation')})"
            for h in self.change.hits_added
        )

    def cells(self) -> list[str]:
        values = {
            **{k: str(self.facts.get(k, "")) for k in COLUMNS},
            "payment_id": self.change.payment_id,
            "before": self.change.before,
            "after": self.change.after,
            "new_hits": self.hits(),
            "citations": ", ".join(self.change.citations(self.change.hits_added)),
            "source": self.source,
        }
        return [values[k] for k in COLUMNS]


def wanted(change: Change) -> bool:
    """Whether a payment belongs in the lookback: now blocked or held, and not as before."""
    return change.after in ("block", "review") and (change.changed or bool(change.hits_added) or not change.recorded)


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_csv(path: Path, rows: Sequence[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows([_safe(c) for c in row.cells()] for row in rows)


def write_html(path: Path, rows: Sequence[Row], title: str, made: datetime, versions: Mapping[str, Any]) -> None:
    esc = html.escape
    head = "".join(f"<th scope='col'>{esc(c.replace('_', ' '))}</th>" for c in COLUMNS)
    body = "\n".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row.cells()) + "</tr>" for row in rows)
    meta = "".join(f"<li>{esc(k.replace('_', ' '))}: <code>{esc(str(v))}</code></li>" for k, v in versions.items())
    path.write_text(
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5rem}table{border-collapse:collapse;font-size:.85rem}"
        "th,td{border:1px solid #999;padding:.3rem;vertical-align:top;text-align:left}"
        "th{background:#eee}caption{text-align:left;font-weight:bold;margin:.5rem 0}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>Made {esc(made.isoformat(timespec='seconds'))}; "
        f"{len(rows)} payments would now be blocked or held for review.</p><ul>{meta}</ul>"
        f"<table><caption>Payments, with the new hits and the paragraphs that require them</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></body></html>\n",
        encoding="utf-8",
    )
