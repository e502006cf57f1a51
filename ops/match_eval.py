"""`screener match-eval --list DIR`: name matching measured on any list in OFAC's layout.

From a seed, it draws listed entries and writes the variants a payment realistically carries
(case, order, punctuation, legal forms, one typo, a dropped middle name, an alias, another
script, the BIC alone), and draws ordinary names from many regions (Faker's locales, in their own
script and romanised). Every name goes through the engine as the creditor of an otherwise clean
payment, so the figures are the engine's: recall (flagged: block or review) per variant kind, and
false block and false review rates on the clean names, with the worst cases listed.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rules import RuleSet, parse_payment, screen
from rules.names import name_tokens
from rules.registry import Registry, registry_from_mapping
from rules.sanctions import BlockedPerson

SANCTION_RULES = frozenset({"blocked_person", "possible_match"})
# Variant kinds the name policy blocks (the listed name is there); the others it must at least review.
BLOCKING_KINDS = frozenset({"case", "order", "punctuation", "legal_form", "alias", "bic_only", "look_alike"})
# Legal forms as companies write them, each with an equivalent spelling (rigour's org-type data
# maps them to one form; these are the spellings a payment uses).
LEGAL_FORM_SPELLINGS = [
    ("LTD", "LIMITED"),
    ("LLC", "LIMITED LIABILITY COMPANY"),
    ("S.A. DE C.V.", "SOCIEDAD ANONIMA DE CAPITAL VARIABLE"),
    ("PVT LTD", "PRIVATE LIMITED"),
    ("PT", "PERSEROAN TERBATAS"),
    ("JSC", "JOINT STOCK COMPANY"),
    ("CO., LTD.", "COMPANY LIMITED"),
    ("GMBH", "GESELLSCHAFT MIT BESCHRANKTER HAFTUNG"),
    ("S.A.", "SOCIEDAD ANONIMA"),
    ("FZE", "FREE ZONE ESTABLISHMENT"),
    ("LLP", "LIMITED LIABILITY PARTNERSHIP"),
]
LOCALES = [
    "en_US", "en_GB", "es_MX", "es_ES", "pt_BR", "fr_FR", "de_DE", "it_IT", "nl_NL", "pl_PL", "tr_TR",
    "ru_RU", "uk_UA", "ar_AA", "ar_SA", "fa_IR", "he_IL", "hi_IN", "en_IN", "en_PK", "bn_BD", "zh_CN",
    "zh_TW", "ja_JP", "ko_KR", "vi_VN", "id_ID", "th_TH", "el_GR", "en_NG", "yo_NG", "sw", "az_AZ",
]  # fmt: skip
INSTANT = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)
CLEAN_ACCOUNT = {
    "account_id": "EVAL-1",
    "status": "open",
    "opened_on": "2019-01-02",
    "holder": {"bic": "HNSEDEFFXXX", "name": "Hanseatic Commerce Bank AG", "country": "DE", "license": "onshore"},
    "certified_on": "2024-02-15",
}


@dataclass(frozen=True)
class Case:
    kind: str
    query: str
    entry: str  # listed entry id ("" for clean names)
    listed: str
    bic: str = ""
    blocks: bool = True  # an SDN entry (a non-SDN entry is reviewed, never blocked)


@dataclass
class Report:
    seed: int
    entries_sampled: int = 0
    variants: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    blocking: Counter[str] = field(default_factory=Counter)  # variants of SDN entries
    blocked: Counter[str] = field(default_factory=Counter)  # of those, blocked
    missed: list[Case] = field(default_factory=list)
    clean: int = 0
    false_blocks: list[tuple[str, str]] = field(default_factory=list)
    false_reviews: list[tuple[str, str]] = field(default_factory=list)
    # Generated "clean" names that are, word for word, a listed name or alias (Faker's Persian
    # locale writes "Bank Saman"): listed names, counted apart.
    listed_names_drawn: list[str] = field(default_factory=list)

    def as_dict(self, worst: int = 15) -> dict[str, Any]:
        total = sum(self.variants.values())
        flagged = sum(self.flagged.values())
        by_kind = {
            kind: {
                "variants": n,
                "flagged": round(self.flagged[kind] / n, 4),
                "blocked_of_sdn": round(self.blocked[kind] / self.blocking[kind], 4) if self.blocking[kind] else None,
            }
            for kind, n in sorted(self.variants.items())
        }
        return {
            "seed": self.seed,
            "entries_sampled": self.entries_sampled,
            "recall_flagged": round(flagged / total, 4) if total else None,
            "by_kind": by_kind,
            "clean_names": self.clean,
            "false_block_rate": round(len(self.false_blocks) / self.clean, 5) if self.clean else None,
            "false_review_rate": round(len(self.false_reviews) / self.clean, 5) if self.clean else None,
            "worst_missed": [f"{c.kind}: {c.query!r} for {c.listed!r} ({c.entry})" for c in self.missed[:worst]],
            "worst_false_blocks": [f"{q!r}: {why}" for q, why in self.false_blocks[:worst]],
            "worst_false_reviews": [f"{q!r}: {why}" for q, why in self.false_reviews[:worst]],
            "clean_names_that_are_listed_names": self.listed_names_drawn[:worst],
        }


def _typo(rng: random.Random, name: str) -> str | None:
    words = re.findall(r"[A-Za-z]{5,}", name)
    if not words:
        return None
    word = max(words, key=len)
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(["swap", "drop", "replace"])
    if edit == "swap":
        new = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    elif edit == "drop":
        new = word[:i] + word[i + 1 :]
    else:
        letters = "aeiou" if word[i].lower() in "aeiou" else "bcdfghklmnprst"
        new = word[:i] + rng.choice([c for c in letters if c != word[i].lower()]) + word[i + 1 :]
    return name.replace(word, new, 1) if new != word else None


def _cyrillic(name: str) -> str:
    import icu

    return str(icu.Transliterator.createInstance("Latin-Cyrillic").transliterate(name))


def _look_alike(rng: random.Random, name: str) -> str | None:
    """One Latin letter replaced by its Cyrillic look-alike, or a zero-width space inserted."""
    swaps = {"A": "\u0410", "C": "\u0421", "E": "\u0415", "O": "\u041e", "P": "\u0420", "a": "\u0430", "o": "\u043e"}
    spots = [i for i, ch in enumerate(name) if ch in swaps]
    if spots and rng.random() < 0.5:
        i = rng.choice(spots)
        return name[:i] + swaps[name[i]] + name[i + 1 :]
    inner = [i for i in range(1, len(name)) if name[i - 1].isalpha() and name[i].isalpha()]
    if not inner:
        return None
    i = rng.choice(inner)
    return name[:i] + "\u200b" + name[i:]


def _legal_form(rng: random.Random, name: str) -> str | None:
    upper = name.upper()
    for short, long in LEGAL_FORM_SPELLINGS:
        for have, other in ((short, long), (long, short)):
            pattern = re.compile(rf"(^|[\s,]){re.escape(have)}($|[\s,])")
            found = pattern.search(upper)
            if found:  # the first occurrence, its separators kept
                return f"{upper[: found.start()]}{found.group(1)}{other}{found.group(2)}{upper[found.end() :]}"
    if rng.random() < 0.5:
        return None
    short, long = rng.choice(LEGAL_FORM_SPELLINGS)
    return f"{upper} {rng.choice([short, long])}"


def variants_of(rng: random.Random, person: BlockedPerson) -> list[Case]:
    """The realistic variants of one listed entry."""
    name = person.name
    out: list[tuple[str, str | None]] = [
        ("case", rng.choice([name.lower(), name.upper(), name.title()])),
        (
            "punctuation",
            re.sub(r"[-.,']", lambda m: rng.choice(["", " "]), name) if re.search(r"[-.,']", name) else None,
        ),
        ("typo", _typo(rng, name)),
        ("look_alike", _look_alike(rng, name)),
        ("other_script", _cyrillic(name)),
    ]
    tokens = name.split()
    if person.type == "individual" and len(tokens) >= 2:
        out.append(("order", " ".join([tokens[-1], *tokens[:-1]])))
    if person.type == "individual" and len(tokens) >= 3:
        drop = rng.randrange(1, len(tokens) - 1)
        out.append(("dropped_middle", " ".join(tokens[:drop] + tokens[drop + 1 :])))
    if person.type == "entity":
        out.append(("legal_form", _legal_form(rng, name)))
    if person.aliases:
        out.append(("alias", rng.choice(person.aliases)))
    cases = [Case(kind, q, person.id, name, blocks=person.blocks) for kind, q in out if q and q != name]
    cases.extend(Case("bic_only", "", person.id, name, bic=bic, blocks=person.blocks) for bic in person.bics)
    return cases


def clean_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Ordinary person and company names from many regions: (locale, name)."""
    try:
        from faker import Faker
    except ImportError:
        raise RuntimeError("match-eval needs Faker for clean names: pip install 'payment-screener[dev]'") from None
    from normality import ascii_text

    fakers = {}
    for loc in LOCALES:
        fake = Faker(loc)
        fake.seed_instance(rng.randrange(2**31))
        fakers[loc] = fake
    out: list[tuple[str, str]] = []
    for _ in range(count):
        loc = rng.choice(LOCALES)
        fake = fakers[loc]
        name = fake.name() if rng.random() < 0.6 else fake.company()
        if not name.isascii() and rng.random() < 0.5:
            name = (ascii_text(name) or name).title()
        out.append((loc, name))
    return out


def _payment(case_id: str, name: str, bic: str) -> dict[str, Any]:
    pay: dict[str, Any] = {
        "payment_id": case_id,
        "message_type": "pacs.008",
        "created_at": "2025-06-10T14:00:00Z",
        "direction": "outbound",
        "amount": "1000.00",
        "currency": "USD",
        "correspondent_account_id": "EVAL-1",
        "debtor": {"name": "Acme Export LLC", "country": "US"},
        "creditor": {"name": name or "Nordic Timber AS"},
        "debtor_agent": {"bic": "HNSEDEFF"},
        "creditor_agent": {"bic": "NRTHNOKK"},
    }
    if bic:
        pay["intermediary_agents"] = [{"bic": bic}]
    return pay


def _sanction_action(rules: RuleSet, registry: Registry, case_id: str, name: str, bic: str = "") -> tuple[str, str]:
    """The strongest action of the sanctions hits for a payment naming `name`, and why."""
    decision = screen(parse_payment(_payment(case_id, name, bic)), registry, rules, INSTANT)
    hits = [h for h in decision.hits if h.rule in SANCTION_RULES]
    if not hits:
        return "pass", ""
    top = max(hits, key=lambda h: (h.action == "block", h.score))
    return top.action, f"{top.action} {top.matched!r} score {top.score:g}"


def evaluate(rules: RuleSet, seed: int = 7, sample: int = 1500, clean: int = 20_000) -> Report:
    """Run the evaluation (seeded: the same seed gives the same cases and figures)."""
    rng = random.Random(seed)  # noqa: S311 - seeded evaluation data, not a secret
    registry = registry_from_mapping({"accounts": [CLEAN_ACCOUNT], "institutions": []})
    report = Report(seed=seed)
    listed = [p for p in rules.sanctions.persons if not p.owned_by]
    with_bics = [p for p in listed if p.bics]
    chosen = rng.sample(listed, min(sample, len(listed)))
    chosen += [p for p in with_bics if p not in chosen]
    report.entries_sampled = len(chosen)
    missed: dict[str, list[Case]] = defaultdict(list)
    for n, person in enumerate(chosen):
        for case in variants_of(rng, person):
            report.variants[case.kind] += 1
            action, _ = _sanction_action(rules, registry, f"V{n}", case.query, case.bic)
            if action != "pass":
                report.flagged[case.kind] += 1
            if case.blocks:
                report.blocking[case.kind] += 1
                report.blocked[case.kind] += action == "block"
            if action == "pass" or (action != "block" and case.blocks and case.kind in BLOCKING_KINDS):
                missed[case.kind].append(case)
    # Worst first: kinds by how many they missed, a few of each.
    for kind in sorted(missed, key=lambda k: -len(missed[k])):
        report.missed.extend(missed[kind][:5])
    listed_words = {frozenset(name_tokens(n)) for p in listed for n in (p.name, *p.aliases, *p.weak_aliases)}
    for n, (loc, name) in enumerate(clean_names(rng, clean)):
        if frozenset(name_tokens(name)) in listed_words:
            report.listed_names_drawn.append(f"{name!r} ({loc})")
            continue
        report.clean += 1
        action, why = _sanction_action(rules, registry, f"C{n}", name)
        if action == "block":
            report.false_blocks.append((name, f"{loc}: {why}"))
        elif action == "review":
            report.false_reviews.append((name, f"{loc}: {why}"))
    return report
