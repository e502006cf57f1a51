"""Name normalisation: one canonical token form for every name the screener compares.

31 CFR 1010.658 as published (80 FR 45062) expects screening to catch a funds transfer that
"lists FBME ... or otherwise references FBME": the same institution arrives spelled in many
ways (case, punctuation, legal forms, other scripts), and SPEC 2.1 asks that aliases, former
names, abbreviations and other scripts all identify it. Everything here is pure and cached.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import icu
from normality import ascii_text

from rules.legal_forms import LEGAL_FORMS, strip_legal_forms
from rules.scripts import spell_spaceless
from rules.word_weights import GENERIC_WORDS

# Words that join a name and carry no identity.
STOP_WORDS = frozenset(
    {
        "of",
        "the",
        "and",
        "for",
        "de",
        "del",
        "da",
        "do",
        "la",
        "le",
        "les",
        "des",
        "du",
        "al",
        "el",
        "y",
        "et",
        "und",
        "der",
        "die",
        "das",
        "von",
        "van",
        "in",
        "at",
        "a",
    }
)
# A name segment naming where a branch or office sits qualifies the institution, it does not
# change it (1010.658(a)(1): "all branches, offices, and subsidiaries ... in any jurisdiction").
BRANCH_WORDS = frozenset({"branch", "branches", "subbranch"})
# Words that qualify an institution's name as an office of it only when they follow the name of
# an institution ("FBME Bank Moscow Representative Office"); elsewhere they are part of the
# name ("Iran Space Agency").
OFFICE_WORDS = frozenset({"office", "offices", "representative", "rep", "agency"})
# The Arabic article, written joined, hyphenated or apart ("Al-Rawi", "Alrawi", "Al Rawi"): joined
# to the word it belongs to, so all three give one token; word_similarity.py also takes the word
# without it ("Rawi") as the same word.
ARTICLES = frozenset({"al", "el"})
SYNONYMS = {
    "intl": "international",
    "int": "international",
    "natl": "national",
    "bk": "bank",
    "comm": "commercial",
    "coml": "commercial",
    "cml": "commercial",
    "bnk": "bank",
    "dev": "development",
    "devt": "development",
    "coop": "cooperative",
    "1st": "first",
    "2nd": "second",
    "3rd": "third",
    "ii": "second",
    "sci": "sciences",
    "pvt": "private",
}

_APOSTROPHES = re.compile(r"[’'`´ʼ‘]")
_SEGMENT_SPLIT = re.compile(r"[,;()\[\]/|]")
_TOKEN = re.compile(r"[a-z0-9]+")


@cache
def _invisible() -> dict[int, None]:
    """Format and default-ignorable characters (zero-width space and joiners, soft hyphen, bidi
    marks): they change the bytes of a name but not how it reads, so they are removed."""
    found = icu.UnicodeSet("[[:Cf:][:Default_Ignorable_Code_Point:]]")
    return dict.fromkeys((ord(ch) for ch in found), None)


@cache
def _spoof_checker() -> icu.SpoofChecker:
    return icu.SpoofChecker()


def _latin_look_alike(ch: str) -> str | None:
    """The ASCII letter a character is confusable with (Unicode TR39 skeleton), if any."""
    skeleton = _spoof_checker().getSkeleton(0, ch)
    return skeleton if len(skeleton) == 1 and skeleton.isascii() and skeleton.isalpha() else None


def _fold_mixed_script(word: re.Match[str]) -> str:
    """A word mixing ASCII letters with letters of another script ("Commercial" written with a
    Cyrillic Es) is a Latin word with look-alikes in it: each look-alike becomes the letter it imitates.
    A word wholly in another script is left for transliteration."""
    text = word.group(0)
    if text.isascii() or not any(c.isascii() and c.isalpha() for c in text):
        return text
    return "".join(ch if ch.isascii() else (_latin_look_alike(ch) or ch) for ch in text)


_WORD = re.compile(r"\w+")


def fold_look_alikes(text: str) -> str:
    """Invisible characters removed and mixed-script words folded to Latin (TR39 confusables)."""
    text = text.translate(_invisible())
    if text.isascii():
        return text
    return _WORD.sub(_fold_mixed_script, text)


def transliterate(text: str) -> str:
    """Latin-script, lower-case text from any script (ICU transliteration via normality), after
    look-alike letters and invisible characters are folded (fold_look_alikes)."""
    out = ascii_text(spell_spaceless(fold_look_alikes(text)))
    return (out or "").lower()


def _collapse_initials(tokens: list[str]) -> list[str]:
    """Join runs of single letters ("F.B.M.E." arrives as f b m e) into one token."""
    out: list[str] = []
    run: list[str] = []
    for tok in tokens:
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(tok)
    if run:
        out.append("".join(run))
    return out


def _qualifies(tok: str, out: list[str], in_qualifier: bool) -> bool:
    if tok in BRANCH_WORDS or (in_qualifier and tok in OFFICE_WORDS):
        return True
    if tok not in OFFICE_WORDS or len(out) < 2:
        return False
    # "<institution word> <place> office": the word before the place ends an institution's name.
    return out[-2] in GENERIC_WORDS or out[-2] in LEGAL_FORMS or out[-1] in GENERIC_WORDS


def _drop_branch_qualifiers(tokens: list[str]) -> list[str]:
    """Remove "<place> branch" / "representative office" qualifiers, keeping the institution."""
    if not any(t in BRANCH_WORDS or t in OFFICE_WORDS for t in tokens):
        return tokens
    out: list[str] = []
    in_qualifier = False
    for tok in tokens:
        if _qualifies(tok, out, in_qualifier):
            # The word before a branch word names the place ("Shenyang Branch", "Moscow
            # Representative Office"); generic words before it belong to the name.
            if not in_qualifier and out and out[-1] not in GENERIC_WORDS and len(out) > 1:
                out.pop()
            in_qualifier = True
            continue
        in_qualifier = False
        out.append(tok)
    return out or tokens


def _join_articles(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if out and out[-1] in ARTICLES and i > 0 and tokens[i - 1] in ARTICLES and tok not in STOP_WORDS:
            out[-1] = out[-1] + tok
            continue
        out.append(tok)
    return out


@lru_cache(maxsize=65_536)
def text_tokens(text: str) -> tuple[str, ...]:
    """Tokens of free text (remittance information): transliterated, no stop words."""
    raw = _TOKEN.findall(_APOSTROPHES.sub("", transliterate(text).replace("&", " and ")))
    toks = [SYNONYMS.get(t, t) for t in _join_articles(_collapse_initials(raw))]
    return tuple(t for t in toks if t not in STOP_WORDS)


def ends_open(text: str) -> bool:
    """Whether text ends with a word that cannot end a name ("of", "the", "de"): it goes on."""
    raw = _TOKEN.findall(_APOSTROPHES.sub("", transliterate(text)))
    return bool(raw) and raw[-1] in STOP_WORDS


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """Canonical tokens of an institution or person name.

    Transliterated, lower-cased, punctuation and apostrophes removed, initials joined, stop
    words, legal forms and branch qualifiers dropped; never empty for a non-empty name.
    """
    text = _APOSTROPHES.sub("", transliterate(name).replace("&", " and "))
    # Legal forms in any of their spellings ("S.A. de C.V.", "Sociedad Anonima de Capital
    # Variable"; "PT", "Perseroan Terbatas"): rigour's organisation-type data, then our list.
    text = strip_legal_forms(text)
    segments = [s for s in _SEGMENT_SPLIT.split(text) if s.strip()]
    tokens: list[str] = []
    for index, segment in enumerate(segments):
        seg = _join_articles(_collapse_initials(_TOKEN.findall(segment)))
        if index > 0 and any(t in BRANCH_WORDS or t in OFFICE_WORDS for t in seg):
            continue
        tokens.extend(seg)
    tokens = [SYNONYMS.get(t, t) for t in tokens]
    tokens = _drop_branch_qualifiers(tokens)
    kept = [t for t in tokens if t not in STOP_WORDS and t not in LEGAL_FORMS]
    if kept:
        return tuple(kept)
    # A name made only of legal forms or stop words ("The Co.") still needs a form.
    return tuple(t for t in tokens if t)


def normalize_name(name: str) -> str:
    """The canonical form of a name as one string (for display and exact comparison)."""
    return " ".join(name_tokens(name))
