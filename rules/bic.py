"""BIC (ISO 9362) parsing: structure, country of licence, and the forms used as registry keys.

SPEC 2.1: "the BIC's country code, letters 5-6, tells where it is licensed". An 8-character BIC
is the institution's primary office and equals the 11-character form ending in "XXX".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import schwifty
from schwifty.exceptions import SchwiftyException

_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# A word of a text that may be a BIC: 8 or 11 capitals and digits, not inside a longer word.
_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])")


class BicError(ValueError):
    """A BIC that is not structurally valid."""


@dataclass(frozen=True, slots=True)
class Bic:
    """A valid BIC and its parts."""

    value: str

    @property
    def bank_code(self) -> str:
        return self.value[:4]

    @property
    def country(self) -> str:
        """ISO 3166 country code, letters 5-6: where the institution is licensed."""
        return self.value[4:6]

    @property
    def bic8(self) -> str:
        return self.value[:8]

    @property
    def bic11(self) -> str:
        return self.value if len(self.value) == 11 else self.value + "XXX"

    @property
    def institution_key(self) -> str:
        """Bank code and country: the institution, whatever its location or branch code."""
        return self.value[:6]

    @property
    def is_primary_office(self) -> bool:
        return len(self.value) == 8 or self.value.endswith("XXX")


@lru_cache(maxsize=100_000)
def parse_bic(text: str) -> Bic:
    """Parse and validate a BIC (8 or 11 characters; spaces and case are forgiven)."""
    value = re.sub(r"\s+", "", text).upper()
    if not _SHAPE.match(value):
        raise BicError(f"BIC {text!r} is not 8 or 11 characters of the form AAAACCLL[BBB]")
    try:
        # schwifty checks the country code against ISO 3166 and the structure.
        schwifty.BIC(value, allow_invalid=False)
    except SchwiftyException as exc:
        raise BicError(f"BIC {text!r} is invalid: {exc}") from exc
    return Bic(value)


def try_parse_bic(text: str | None) -> Bic | None:
    """Parse a BIC or return None when there is none or it is invalid."""
    if not text:
        return None
    try:
        return parse_bic(text)
    except BicError:
        return None


def bic_words(text: str) -> Iterator[str]:
    """The words of a text that have a BIC's shape, in order (in capitals, as BICs are written:
    "the registry's record PLBKCNSHXXX"); parse_bic / try_parse_bic tells which are BICs. Lazy,
    so a caller reading a long text full of such words stops when it has had enough."""
    return (m.group(0) for m in _WORD.finditer(text))
