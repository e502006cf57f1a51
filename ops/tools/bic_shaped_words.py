"""Write rules/lists/bic_shaped_words.txt: ordinary words that have the shape of a BIC.

A word of 8 or 11 letters whose letters 5-6 are a country code looks like a BIC ("CONFIRMS" reads
as bank CONF, country IR). The free-text check (rules/checks/free_text.py) ignores these words when
nothing marks them as a BIC. The source is Debian's word lists (packages wamerican, wbritish,
wfrench, wngerman, wspanish, witalian, wportuguese), for the countries whose BICs act on their own
(the special-measure jurisdictions), plus the given names OFAC's list spells that way.

    apt-get install wamerican wbritish wfrench wngerman wspanish witalian wportuguese
    python ops/tools/bic_shaped_words.py IR KP MM [--names ../shared/data/ofac/sdn.csv]
"""

from __future__ import annotations

import argparse
import csv
import re
import unicodedata
from pathlib import Path

DICT_DIR = Path("/usr/share/dict")
LISTS = ("american-english", "british-english", "french", "ngerman", "spanish", "italian", "portuguese")
OUT = Path(__file__).resolve().parents[2] / "rules" / "lists" / "bic_shaped_words.txt"


def _fold(word: str) -> str:
    return re.sub(r"[^A-Z]", "", unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().upper())


def _shaped(word: str, countries: set[str]) -> bool:
    return len(word) in (8, 11) and word[4:6] in countries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("countries", nargs="+")
    parser.add_argument("--names", type=Path, help="an OFAC sdn.csv whose name words are added too")
    args = parser.parse_args()
    countries = {c.upper() for c in args.countries}
    words: set[str] = set()
    for name in LISTS:
        for line in (DICT_DIR / name).read_text(encoding="utf-8", errors="ignore").splitlines():
            word = _fold(line)
            if _shaped(word, countries):
                words.add(word)
    if args.names:
        with args.names.open(encoding="latin-1", newline="") as f:
            for row in csv.reader(f):
                for part in re.split(r"[^A-Za-z]+", row[1] if len(row) > 1 else ""):
                    word = _fold(part)
                    if _shaped(word, countries):
                        words.add(word)
    header = [
        "# Ordinary words and given names of BIC shape (8 or 11 letters, letters 5-6 a country code).",
        "# Made by ops/tools/bic_shaped_words.py from Debian's word lists"
        + (" and the name words of OFAC's SDN list" if args.names else "")
        + "; regenerate when a jurisdiction is added.",
        f"# countries: {' '.join(sorted(countries))}",
    ]
    OUT.write_text("\n".join([*header, *sorted(words)]) + "\n", encoding="utf-8")
    print(f"{len(words)} words for {' '.join(sorted(countries))} -> {OUT}")


if __name__ == "__main__":
    main()
