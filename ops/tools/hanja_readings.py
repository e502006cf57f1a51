"""Write rules/lists/hanja_readings.tsv: the Korean readings (Hangul) of Chinese characters.

Korean names may be written in hanja ("金正恩"); read in Korean they go through the same Hangul
comparison as names written in Hangul (rules/korean.py). The source is the Unicode Han Database's
kHangul property (Unihan_Readings.txt), as Debian's package unicode-data ships it:

    apt-get download unicode-data && dpkg -x unicode-data_*.deb x
    python ops/tools/hanja_readings.py x/usr/share/unicode/Unihan_Readings.txt.bz2

Each line: the character, a tab, its readings separated by spaces, name readings (source flag
N: the hanja for personal names) first.
"""

from __future__ import annotations

import argparse
import bz2
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "rules" / "lists" / "hanja_readings.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("unihan_readings", type=Path, help="Unihan_Readings.txt or .txt.bz2")
    args = parser.parse_args()
    opener = bz2.open if args.unihan_readings.suffix == ".bz2" else open
    rows = []
    with opener(args.unihan_readings, "rt", encoding="utf-8") as source:
        for line in source:
            if line.startswith("#") or "\tkHangul\t" not in line:
                continue
            code, _, values = line.rstrip("\n").split("\t")
            readings = [v.split(":") for v in values.split()]
            ordered = sorted(readings, key=lambda r: "N" not in (r[1] if len(r) > 1 else ""))
            unique = list(dict.fromkeys(r[0] for r in ordered))
            rows.append(f"{chr(int(code.removeprefix('U+'), 16))}\t{' '.join(unique)}")
    header = (
        "# Korean readings of Chinese characters (Hangul), name readings first. Source: Unicode Han\n"
        "# Database, kHangul (Unihan_Readings.txt, Unicode 15.0, Debian unicode-data 15.0.0-1);\n"
        "# written by ops/tools/hanja_readings.py.\n"
    )
    OUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} characters -> {OUT}")


if __name__ == "__main__":
    main()
