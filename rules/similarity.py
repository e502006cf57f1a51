"""Name similarity, and the name policy: when a name alone may block, and when it is reviewed.

SPEC 2.2: "A weak name similarity alone must never block: a block needs an exact identifier
... or a strong name match." The policy (README, "Name policy"):

- **block** (strong): the listed name is there. Every distinctive part of it is equal, after
  normalisation and transliteration (rules/names.py), to a part of the name in the payment (or the
  whole name is, written without spaces), and the score is at least STRONG_MATCH, so that what the
  payment adds does not outweigh it. Anything else (a word one letter off, another surname, a
  different number) is at most a review;
- **review** (possible match): a score of at least POSSIBLE_MATCH, with at least one distinctive
  part equal or sounding the same (a name whose every word is only near one on the list is
  another name: "Marco Ricci" is not "Mario Riccio"); or the listed name with one middle part
  dropped;
- two words count as the same word only when they are equal, one typo apart (words of five
  letters or more), or near (Jaro-Winkler at least TOKEN_MIN, at most a few edits, by their
  length) and start alike (two letters) or sound alike (metaphone);
  words with digits only when equal: a vessel or company whose number differs is another one
  (rules/word_similarity.py).

The score: generic banking words ("commercial", "bank") count for little, a distinctive word of
the listed name the payment lacks caps it, words the payment adds lower it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import OSA
from rapidfuzz.fuzz import ratio

from rules.korean import korean_key
from rules.name_forms import NameForm, consonants
from rules.word_similarity import SHORT_TOKEN, TYPO_MIN_LENGTH, sound, token_similarity
from rules.word_weights import TokenKind

STRONG_MATCH = 90.0
POSSIBLE_MATCH = 80.0
CONTAINED_MATCH = 92.0
# A listed name with one middle part dropped ("Ahmad Hassan AL ASIRI" for "Ahmad Hassan
# Mohammed AL ASIRI") is reviewed at this score.
DROPPED_PART_MATCH = 82.0
MAX_DROPPED = 2
# A word romanised from Arabic script with the consonants of a listed word (name_forms.consonants).
ABJAD_SIM = 0.9
ABJAD_MIN_CONSONANTS = 2
# The same Korean syllables romanised another way: the whole name (word by word:
# word_similarity.KOREAN_SIM).
KOREAN_ROMANISATION_MATCH = 88.0
# A name in Hangul whose syllables the list's romanisation may write: reviewed, never blocked on
# the name alone. The romanisations the key unifies write several Hangul syllables alike (정 and
# 종 are both "Jong"; 철 and 촐 both "Chol"), so a different person's name reads as the listed one;
# only a Hangul spelling given by the list itself (an alias) is the listed name.
HANGUL_READING_MATCH = 95.0
# A listed name of one distinctive word is matched near only when that word is long.
SINGLE_WORD_NEAR_MIN_LENGTH = 7
# Without any of the listed name's distinctive words, a name cannot reach even a possible match.
_NO_DISTINCTIVE_CAP = 50.0
# Space-free forms this close denote the same name split differently ("Cholmin"/"Chol Min").
COMPACT_MIN = 94.0
COMPACT_MIN_LENGTH = 8
# A name shorter than this (written without spaces) is never the listed name by itself.
MIN_EXACT_LETTERS = 4
# A listed person's name of at most COMMON_NAME_MAX_WORDS distinctive words, each found in at
# least COMMON_WORD_NAMES listed people's names ("Zhang Wei"), does not identify anyone by itself:
# found whole, it is a possible match (rules/name_candidates.py marks such names).
COMMON_WORD_NAMES = 8
COMMON_NAME_MAX_WORDS = 2


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    if len(needle) < 2 or len(needle) > len(haystack):
        return False
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


@dataclass(frozen=True, slots=True)
class Part:
    """One word of the listed name and the word of the payment's name it was paired with."""

    listed: str
    query: str
    similarity: float
    weight: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """A score and what it rests on (`screener explain-match` prints it)."""

    score: float
    exact: bool  # every distinctive part of the listed name is in the query (or the whole name is)
    reviewable: bool  # enough is equal or alike for a review at this score
    rule: str  # which part of the policy set the score
    parts: tuple[Part, ...] = ()
    missing: tuple[str, ...] = ()  # listed words not found
    extra: tuple[str, ...] = ()  # query words not in the listed name

    @property
    def strong(self) -> bool:
        return self.exact and self.score >= STRONG_MATCH

    @property
    def possible(self) -> bool:
        return self.reviewable and self.score >= POSSIBLE_MATCH


def _alike(a: str, b: str) -> bool:
    """Sounding alike (metaphone, or one Korean romanisation key), or one typo apart in a word of
    TYPO_MIN_LENGTH letters or more."""
    if sound(a) == sound(b):
        return True
    key = korean_key(a)
    if key is not None and key == korean_key(b):
        return True
    return min(len(a), len(b)) >= TYPO_MIN_LENGTH and OSA.distance(a, b, score_cutoff=1) <= 1


def _same_consonants(listed: str, query: str) -> bool:
    """A word romanised from Arabic script, which writes no short vowels, against a listed word:
    the same consonants ("mhmd"/"Mohammad"). Near, never equal."""
    skeleton = consonants(query)
    # A short listed word may have one consonant ("Ali"); a longer one needs two.
    enough = len(skeleton) >= ABJAD_MIN_CONSONANTS or (skeleton and len(listed) <= SHORT_TOKEN)
    return bool(enough) and skeleton == consonants(listed)


def _one_typo(listed: str, query: str) -> bool:
    """One word carries the whole name: near only when one typo off, and either long or with its
    first and last letters kept ("Reyco"/"Relco", but not "Santoso"/"Santos")."""
    if OSA.distance(listed, query, score_cutoff=1) > 1:
        return False
    shorter = min(len(listed), len(query))
    if shorter >= SINGLE_WORD_NEAR_MIN_LENGTH:
        return True
    return shorter >= TYPO_MIN_LENGTH and listed[0] == query[0] and listed[-1] == query[-1]


def _pair(query: NameForm, listed: NameForm) -> tuple[list[tuple[float, int, int]], set[int], set[int]]:
    pairs: list[tuple[float, int, int]] = []
    single = sum(1 for w in listed.weights if w == TokenKind.DISTINCTIVE) == 1
    for i, lt in enumerate(listed.tokens):
        for j, qt in enumerate(query.tokens):
            sim = token_similarity(lt, qt)
            if sim and sim < 1.0 and single and listed.weights[i] == TokenKind.DISTINCTIVE and not _one_typo(lt, qt):
                sim = 0.0
            if not sim and query.abjad and not single and _same_consonants(lt, qt):
                # A name of one word is not found by its consonants alone ("Herby" for "حرب").
                sim = ABJAD_SIM
            if sim:
                pairs.append((sim, i, j))
    # Best first; among equals, the listed name's earlier words first ("Wan Mat WAN MIN").
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_l: set[int] = set()
    used_q: set[int] = set()
    chosen: list[tuple[float, int, int]] = []
    for sim, i, j in pairs:
        if i in used_l or j in used_q:
            continue
        used_l.add(i)
        used_q.add(j)
        chosen.append((sim, i, j))
    return chosen, used_l, used_q


def compare_names(query: NameForm, listed: NameForm, detail: bool = False) -> Comparison:
    """Compare a name found in a payment (query) with a listed name (see _compare_words); a
    Korean name is also compared whole, across romanisations and Hangul (_korean_compact).
    With `detail`, the word pairs (`parts`) are kept, for `screener explain-match`."""
    result = _compare_words(query, listed, detail)
    if result.strong or query.compact == listed.compact:
        return result
    korean = _korean_compact(query, listed)
    if korean is not None and (korean.strong or korean.score > result.score):
        return korean
    return result


def _compare_words(query: NameForm, listed: NameForm, detail: bool) -> Comparison:
    """Compare a name found in a payment (query) with a listed name.

    recall: the share of the listed name's weight found in the query; precision: the share of
    the query's weight that belongs to the listed name. Recall dominates (a listed name found
    whole is strong evidence); precision tempers it (extra distinctive words suggest another
    name that merely contains the listed one).
    """
    if not query.tokens or not listed.tokens:
        return Comparison(0.0, False, False, "empty")
    if query.compact == listed.compact:
        if len(listed.compact) < MIN_EXACT_LETTERS:
            # "EKO", "STG": too short to identify anything by itself.
            return Comparison(POSSIBLE_MATCH, False, True, "equal, but too short to identify")
        return Comparison(100.0, True, True, "equal written without spaces")
    chosen, used_l, used_q = _pair(query, listed)
    matched_l = sum(listed.weights[i] * sim for sim, i, _ in chosen)
    matched_q = sum(query.weights[j] * sim for sim, _, j in chosen)
    parts = (
        tuple(
            Part(listed.tokens[i], query.tokens[j], round(sim, 3), listed.weights[i])
            for sim, i, j in sorted(chosen, key=lambda c: c[1])
        )
        if detail
        else ()
    )
    missing = tuple(t for i, t in enumerate(listed.tokens) if i not in used_l)
    extra = tuple(t for j, t in enumerate(query.tokens) if j not in used_q)
    distinctive = [i for i, w in enumerate(listed.weights) if w == TokenKind.DISTINCTIVE]
    equal = {i for sim, i, _ in chosen if sim == 1.0}
    alike = {i for sim, i, j in chosen if sim in (1.0, ABJAD_SIM) or _alike(listed.tokens[i], query.tokens[j])}
    exact = all(i in equal for i in distinctive) if distinctive else all(i in equal for i in range(len(listed.tokens)))
    reviewable = bool(alike & set(distinctive)) if distinctive else bool(alike)
    recall = matched_l / listed.total
    precision = matched_q / query.total
    score = 100.0 * recall * precision**0.5
    rule = "words"
    if distinctive and not any(i in used_l for i in distinctive):
        score = min(score, _NO_DISTINCTIVE_CAP)
        rule = "no distinctive word found"
    if score < STRONG_MATCH and _contains(query.tokens, listed.tokens) and _institutional(listed):
        # The listed name stands whole and in order in the query ("Commercial Bank of Syria,
        # Damascus"): what the payment adds qualifies it; known look-alikes are suppressed apart.
        score, rule, exact = CONTAINED_MATCH, "listed name contained whole", True
    if score < STRONG_MATCH and min(len(query.compact), len(listed.compact)) >= COMPACT_MIN_LENGTH:
        compact = float(ratio(query.compact, listed.compact))
        if compact >= COMPACT_MIN and compact > score:
            score, rule, reviewable = compact, "near written without spaces", True
    if score < POSSIBLE_MATCH and _dropped_middle(listed, distinctive, equal, extra, query):
        score, rule, reviewable = DROPPED_PART_MATCH, "one middle part dropped", True
    return Comparison(round(float(score), 1), exact, reviewable, rule, parts, missing, extra)


def _korean_compact(query: NameForm, listed: NameForm) -> Comparison | None:
    """The whole name the same Korean syllables, in Hangul or in another romanisation: a
    possible match (HANGUL_READING_MATCH, KOREAN_ROMANISATION_MATCH)."""
    wanted = korean_key(query.compact)
    if wanted is None or len(listed.compact) < MIN_EXACT_LETTERS:
        return None
    # Korean writes the surname first; the list, after the given names.
    orders = (listed.compact, "".join((listed.tokens[-1], *listed.tokens[:-1])))
    if all(korean_key(order) != wanted for order in orders):
        return None
    if query.hangul:
        return Comparison(HANGUL_READING_MATCH, False, True, "the listed name's romanisation read in Hangul")
    return Comparison(KOREAN_ROMANISATION_MATCH, False, True, "the listed name in another romanisation of Korean")


def _institutional(listed: NameForm) -> bool:
    """A listed name that qualifies as contained whole in a longer one: an institution's (a
    generic word in it) or one of three words or more; two syllables of a personal name inside a
    longer name are a coincidence, not the name."""
    return listed.total > 0.6 and (len(listed.tokens) >= 3 or any(w != TokenKind.DISTINCTIVE for w in listed.weights))


def _dropped_middle(
    listed: NameForm, distinctive: list[int], equal: set[int], extra: tuple[str, ...], query: NameForm
) -> bool:
    """The listed name with a middle part dropped: the distinctive words missing are one run of
    at most MAX_DROPPED words ("Abdul-Ghani" is two) with an equal distinctive word before and
    after it, every other distinctive word equal, and nothing distinctive added."""
    if len(distinctive) < 3 or len(query.tokens) < 2:
        return False
    missing = [i for i in distinctive if i not in equal]
    if not missing or len(missing) > MAX_DROPPED or len(distinctive) - len(missing) < 2:
        return False
    run = distinctive.index(missing[0])
    if distinctive[run : run + len(missing)] != missing or run == 0 or run + len(missing) == len(distinctive):
        return False
    return not any(query.weights[query.tokens.index(t)] == TokenKind.DISTINCTIVE for t in extra)


def score_names(query: NameForm, listed: NameForm) -> float:
    """The score of compare_names, 0-100."""
    return compare_names(query, listed).score
