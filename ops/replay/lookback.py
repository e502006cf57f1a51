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
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Self

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
    """The report's CSV in one go (LookbackWriter writes it row by row)."""
    with LookbackWriter(path.parent, csv_name=path.name) as writer:
        for row in rows:
            writer.add(row)


_STYLE = (
    "body{font-family:sans-serif;margin:1.5rem}table{border-collapse:collapse;font-size:.85rem}"
    "th,td{border:1px solid #999;padding:.3rem;vertical-align:top;text-align:left}"
    "th{background:#eee}caption{text-align:left;font-weight:bold;margin:.5rem 0}"
)


class LookbackWriter:
    """lookback.csv and lookback.html written row by row, so a replay holds no row in memory
    whatever it finds; `close` ends the page with the count and the versions."""

    def __init__(self, folder: Path, title: str = "Lookback", csv_name: str = "lookback.csv") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.csv_path, self.html_path = folder / csv_name, folder / "lookback.html"
        self.count = 0
        self._csv_file: IO[str] = self.csv_path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(COLUMNS)
        self._html: IO[str] = self.html_path.open("w", encoding="utf-8")
        head = "".join(f"<th scope='col'>{html.escape(c.replace('_', ' '))}</th>" for c in COLUMNS)
        self._html.write(
            f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            "<table><caption>Payments that would now be blocked or held, with the new hits and the "
            f"paragraphs that require them</caption><thead><tr>{head}</tr></thead><tbody>\n"
        )

    def add(self, row: Row) -> None:
        cells = row.cells()
        self._csv.writerow([_safe(c) for c in cells])
        self._html.write("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>\n")
        self.count += 1

    def close(self, versions: Mapping[str, Any] | None = None) -> None:
        meta = "".join(
            f"<li>{html.escape(k.replace('_', ' '))}: <code>{html.escape(str(v))}</code></li>"
            for k, v in (versions or {}).items()
        )
        made = datetime.now(UTC).isoformat(timespec="seconds")
        self._html.write(
            f"</tbody></table><p>Made {html.escape(made)}; {self.count} payments would now be blocked or held "
            f"for review.</p><ul>{meta}</ul></body></html>\n"
        )
        self._html.close()
        self._csv_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._html.closed:
            self.close()
