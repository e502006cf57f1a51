"""Where the package's data files are, in one place for every module: a module compiled with mypyc
(rules/native.py) does not know its source's directory (its __file__ is the shared library's)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
LISTS_DIR = PACKAGE_DIR / "lists"
MEASURES_DIR = PACKAGE_DIR / "measures"
