"""Name similarity: one score, 0-100, of how surely two names denote the same institution or person.

SPEC 2.2: "A weak name similarity alone must never block: a block needs an exact identifier
... or a strong name match." The score is built so that only names that share their
distinctive words score high: generic banking words ("commercial", "bank", "development")
count for little, a distinctive word of the listed name that the payment lacks caps the score,
and words the payment adds that the listed name lacks lower it.
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import ratio

from rules.names import NameForm, TokenKind

# Calibrated on tests/golden/name_pairs.csv (`screener match-eval` prints the figures).
STRONG_MATCH = 90.0
POSSIBLE_MATCH = 80.0
CONTAINED_MATCH = 92.0

# Two tokens count as the same word at this Jaro-Winkler similarity or above
# ("Cheol"/"Chol", "Dandung"/"Dandong"), never for short words, which must be exact.
TOKEN_MIN = 0.90
SHORT_TOKEN = 4
# Without any of the listed name's distinctive words, a name cannot reach even a possible match.
_NO_DISTINCTIVE_CAP = 50.0
# Space-free forms this close denote the same name split differently ("Cholmin"/"Chol Min").
COMPACT_MIN = 94.0
COMPACT_MIN_LENGTH = 8


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    if len(needle) < 2 or len(needle) > len(haystack):
        return False
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def token_similarity(a: str, b: str) -> float:
    """Similarity of two tokens in [0, 1], zero below the threshold."""
    if a == b:
        return 1.0
    if len(a) < SHORT_TOKEN or len(b) < SHORT_TOKEN:
        return 0.0
    sim = float(JaroWinkler.similarity(a, b))
    return sim if sim >= TOKEN_MIN else 0.0


def score_names(query: NameForm, listed: NameForm) -> float:
    """Score a name found in a payment (query) against a listed name, 0-100.

    recall: the share of the listed name's weight found in the query; precision: the share of
    the query's weight that belongs to the listed name. Recall dominates (a listed name found
    whole is strong evidence); precision tempers it (extra distinctive words suggest another
    institution that merely contains the listed name).
    """
    if not query.tokens or not listed.tokens:
        return 0.0
    if query.compact == listed.compact:
        return 100.0
    pairs: list[tuple[float, int, int]] = []
    for i, lt in enumerate(listed.tokens):
        for j, qt in enumerate(query.tokens):
            sim = token_similarity(lt, qt)
            if sim:
                pairs.append((sim, i, j))
    pairs.sort(reverse=True)
    used_l: set[int] = set()
    used_q: set[int] = set()
    matched_l = 0.0
    matched_q = 0.0
    distinctive_found = False
    for sim, i, j in pairs:
        if i in used_l or j in used_q:
            continue
        used_l.add(i)
        used_q.add(j)
        matched_l += listed.weights[i] * sim
        matched_q += query.weights[j] * sim
        if listed.weights[i] == TokenKind.DISTINCTIVE:
            distinctive_found = True
    recall = matched_l / listed.total
    precision = matched_q / query.total
    score = 100.0 * recall * precision**0.5
    if listed.has_distinctive and not distinctive_found:
        score = min(score, _NO_DISTINCTIVE_CAP)
    if score < STRONG_MATCH and _contains(query.tokens, listed.tokens) and listed.total > 0.6:
        # The listed name stands whole and in order in the query ("Commercial Bank of Syria,
        # Damascus"): what the payment adds qualifies it; known look-alikes are suppressed apart.
        score = CONTAINED_MATCH
    if score < STRONG_MATCH and min(len(query.compact), len(listed.compact)) >= COMPACT_MIN_LENGTH:
        compact = float(ratio(query.compact, listed.compact))
        if compact >= COMPACT_MIN:
            score = max(score, compact)
    return round(float(score), 1)
