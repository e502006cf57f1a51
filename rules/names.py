"""Name normalisation: one canonical token form for every name the screener compares.

31 CFR 1010.658 as published (80 FR 45062) expects screening to catch a funds transfer that
"lists FBME ... or otherwise references FBME": the same institution arrives spelled in many
ways (case, punctuation, legal forms, other scripts), and SPEC 2.1 asks that aliases, former
names, abbreviations and other scripts all identify it. Everything here is pure and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import icu
from normality import ascii_text
from rigour.names import extract_org_types

from rules.korean import has_hangul
from rules.scripts import spell_spaceless

# Legal-form words say nothing about which institution is meant.
LEGAL_FORMS = frozenset(
    {
        "ltd",
        "limited",
        "llc",
        "plc",
        "inc",
        "incorporated",
        "co",
        "company",
        "corp",
        "corporation",
        "sa",
        "sal",
        "sarl",
        "saog",
        "ag",
        "gmbh",
        "jsc",
        "pjsc",
        "ojsc",
        "cjsc",
        "oao",
        "zao",
        "ooo",
        "bhd",
        "berhad",
        "pte",
        "pty",
        "llp",
        "lp",
        "nv",
        "bv",
        "spa",
        "srl",
        "kg",
        "ab",
        "oy",
        "ltda",
        "limitada",
        "ca",
        "bsc",
        "qpsc",
        "psc",
        "kscp",
        "tbk",
        "as",
        "asa",
        "gfsi",
        "pt",
    }
)
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
# Words many unrelated institutions share: they count, but little, so that "Commercial Bank of
# Ceylon" is not "Commercial Bank of Syria" (SPEC 2.2, look-alikes).
GENERIC_WORDS = frozenset(
    {
        "bank",
        "banks",
        "banking",
        "banque",
        "banco",
        "bancorp",
        "bankasi",
        "banka",
        "banca",
        "commercial",
        "trade",
        "trading",
        "international",
        "national",
        "development",
        "credit",
        "investment",
        "investments",
        "savings",
        "finance",
        "financial",
        "cooperative",
        "coop",
        "union",
        "united",
        "group",
        "holding",
        "holdings",
        "joint",
        "stock",
        "foreign",
        "economic",
        "agricultural",
        "central",
        "first",
        "second",
        "industrial",
        "merchant",
        "merchants",
        "universal",
        "capital",
        "private",
        "public",
        "state",
        "trust",
        "rural",
        "exchange",
        "export",
        "import",
        "securities",
        "venture",
        "general",
        "business",
        "islamic",
        "people",
        "peoples",
        "republic",
        "democratic",
        "new",
        "global",
        "world",
        "services",
        "service",
        "enterprise",
        "enterprises",
        "industries",
        "industry",
        "academy",
        "institute",
        "university",
        "sciences",
        "science",
        "research",
        "natural",
    }
)
# Country names and demonyms: in a payment they mostly say where a branch sits ("FBME Bank
# Tanzania"), so an added one costs little; in a listed name they count a little more than a
# generic word but never make a name distinctive on their own.
LOCATION_WORDS = frozenset(
    {
        "afghanistan",
        "albania",
        "algeria",
        "angola",
        "argentina",
        "armenia",
        "australia",
        "austria",
        "azerbaijan",
        "bahrain",
        "bangladesh",
        "belarus",
        "belgium",
        "bolivia",
        "bosnia",
        "brazil",
        "bulgaria",
        "burma",
        "burmese",
        "cambodia",
        "cameroon",
        "canada",
        "cayman",
        "ceylon",
        "chile",
        "china",
        "chinese",
        "colombia",
        "croatia",
        "cuba",
        "cyprus",
        "czech",
        "denmark",
        "dubai",
        "ecuador",
        "egypt",
        "ethiopia",
        "europe",
        "european",
        "finland",
        "france",
        "georgia",
        "germany",
        "ghana",
        "greece",
        "hongkong",
        "hungary",
        "india",
        "indonesia",
        "iran",
        "iranian",
        "iraq",
        "ireland",
        "israel",
        "italy",
        "japan",
        "jordan",
        "kazakhstan",
        "kenya",
        "korea",
        "korean",
        "kuwait",
        "kyrgyzstan",
        "laos",
        "latvia",
        "lebanon",
        "lebanese",
        "libya",
        "lithuania",
        "luxembourg",
        "malaysia",
        "malta",
        "mexico",
        "moldova",
        "mongolia",
        "morocco",
        "myanmar",
        "myanma",
        "nepal",
        "netherlands",
        "nigeria",
        "norway",
        "oman",
        "pakistan",
        "panama",
        "peru",
        "philippines",
        "poland",
        "portugal",
        "qatar",
        "romania",
        "russia",
        "russian",
        "saudi",
        "serbia",
        "singapore",
        "slovakia",
        "slovenia",
        "spain",
        "sudan",
        "sweden",
        "switzerland",
        "syria",
        "syrian",
        "taiwan",
        "tajikistan",
        "tanzania",
        "thailand",
        "tunisia",
        "turkey",
        "turkmenistan",
        "uganda",
        "ukraine",
        "uzbekistan",
        "venezuela",
        "vietnam",
        "yemen",
        "zambia",
        "zimbabwe",
        "emirates",
        "arab",
        "america",
        "american",
        "kingdom",
        "states",
        "asia",
        "asian",
        "africa",
        "african",
        "middle",
        "east",
        "north",
        "south",
        "west",
        "gulf",
        "islands",
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
# to the word it belongs to, so all three give one token; similarity.py also takes the word
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


class TokenKind:
    """Weights of the token classes in a name score."""

    LOCATION = 0.25
    GENERIC = 0.3
    DISTINCTIVE = 1.0


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


def _strip_legal_forms(text: str) -> str:
    """Remove legal forms that open or close a name, in any spelling rigour knows ("s.a. de
    c.v.", "sociedad anonima de capital variable"; "perseroan terbatas"). Two-letter forms
    without punctuation are left to LEGAL_FORMS: rigour's include syllables that are names
    ("yu", "ao"), and a form in the middle of a name is part of it ("OOO STG-EKO")."""
    for span, _ in extract_org_types(text):
        form = span.strip(" ,.;")
        if len(form) <= 2 and form.isalpha():
            continue
        body = text.strip(" ,.;:-")
        if body.endswith(form) and len(body) > len(form):
            text = body[: -len(form)]
        elif body.startswith(form) and len(body) > len(form):
            text = body[len(form) :]
    return text


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """Canonical tokens of an institution or person name.

    Transliterated, lower-cased, punctuation and apostrophes removed, initials joined, stop
    words, legal forms and branch qualifiers dropped; never empty for a non-empty name.
    """
    text = _APOSTROPHES.sub("", transliterate(name).replace("&", " and "))
    # Legal forms in any of their spellings ("S.A. de C.V.", "Sociedad Anonima de Capital
    # Variable"; "PT", "Perseroan Terbatas"): rigour's organisation-type data, then our list.
    text = _strip_legal_forms(text)
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


def token_weight(token: str) -> float:
    """How much a token says about identity."""
    if token in GENERIC_WORDS:
        return TokenKind.GENERIC
    if token in LOCATION_WORDS:
        return TokenKind.LOCATION
    return TokenKind.DISTINCTIVE


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name ready to score: tokens with weights, and the space-free compact form."""

    original: str
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    has_distinctive: bool
    compact: str
    hangul: bool = False  # written in Hangul (rules/korean.py)
    abjad: bool = False  # written in Arabic script, whose romanisation has no short vowels


@lru_cache(maxsize=200_000)
def name_form(name: str) -> NameForm:
    """Build (and cache) the scoring form of a name."""
    tokens = name_tokens(name)
    weights = tuple(token_weight(t) for t in tokens)
    return NameForm(
        original=name,
        tokens=tokens,
        weights=weights,
        total=sum(weights),
        has_distinctive=any(w == TokenKind.DISTINCTIVE for w in weights),
        compact="".join(tokens),
        hangul=has_hangul(name),
        abjad=_ARABIC_SCRIPT.search(name) is not None,
    )


_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_VOWELS = str.maketrans("", "", "aeiouyw")


def consonants(word: str) -> str:
    """A word's consonants, each doubled one once: what a name written in Arabic script keeps when
    romanised ("محمد" -> "mhmd" is "Mohammad"; "علی" -> "ly" is "Ali"). Y and w go too: in
    Arabic script they also write long vowels."""
    out = word.translate(_VOWELS)
    return "".join(ch for i, ch in enumerate(out) if i == 0 or out[i - 1] != ch)
