"""Section 311 special measures, 31 CFR 1010.651-661: direct use, indirect use, exceptions, notices.

- direct use, (b)(1): the account is held for, or on behalf of, a covered institution.
- indirect use, (b)(2): the payment involves a covered institution in any institution field, a
  party (with every institution check when the party is itself a financial institution), a
  party's account, the free text, or through a nested institution of the account acting in it.
- authorised exception: 1010.651(b)(3) (Burma) and the OFAC proviso of 1010.661(b)(1)-(2)
  (Iran): with an authorization the payment is held for review instead of blocked.
- notices, 1010.653(b)(2)(i)(A), 1010.658(b)(2)(i)(A), 1010.659-661(b)(3)(i)(A): once the
  payment shows that an account serves a covered institution (not for Burma: 1010.651(b)(4)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from rules.bic import try_parse_bic
from rules.checks.coverage import institution_evidence
from rules.checks.evidence import Evidence
from rules.checks.facts import Facts
from rules.checks.free_text import text_evidence
from rules.checks.parties import institution_role, party_evidence
from rules.decision import Hit, NoticeDue
from rules.financial_institutions import kind_from_name
from rules.measure_files import SpecialMeasure
from rules.names import normalize_name
from rules.payment import FREE_TEXT_FIELDS, Institution

DIRECT = "direct_use"
INDIRECT = "indirect_use"
EXCEPTION = "authorised_exception"
POSSIBLE = "possible_match"


_PARTS = (".bic", ".name", ".country", ".address", ".account")


def _subject(field: str) -> str:
    """The institution or party a field belongs to ("debtor" for "debtor.bic"), the free-text
    field a line belongs to, or the field."""
    for name in FREE_TEXT_FIELDS:
        if field.startswith(f"{name}["):
            return name
    for part in _PARTS:
        if field.endswith(part):
            return field.removesuffix(part)
    return field


def _best(evidence: Iterable[Evidence], facts: Facts) -> dict[tuple[str, str], Evidence]:
    """The strongest evidence per (section, institution or text field), for measures in force on
    the payment's date: one hit per institution and section, on its strongest evidence."""
    best: dict[tuple[str, str], Evidence] = {}
    for ev in evidence:
        if not ev.measure.in_force(facts.day):
            continue
        key = (ev.measure.section, _subject(ev.field))
        if key not in best or ev.rank > best[key].rank:
            best[key] = ev
    return best


def _acting(measure: SpecialMeasure, which: str, ev: Evidence, facts: Facts, who: str) -> Hit:
    """A block under (b)(1) or (b)(2), or the review its exception allows."""
    rule = measure.paragraphs.direct_use if which == DIRECT else measure.paragraphs.indirect_use
    citation = measure.cite(rule.paragraph)
    if which == DIRECT:
        reason = (
            f"{who} is {_article(rule.term or measure.covered.term)} ({ev.because}); "
            f"{citation} forbids a correspondent account for, or on behalf of, it."
        )
    else:
        reason = (
            f"{who} involves {_article(measure.covered.term)} ({ev.because}); {citation} "
            f"forbids processing a transaction that involves it."
        )
    exc = measure.paragraphs.exception
    if exc is not None and facts.authorised and which in exc.applies_to:
        citation = measure.cite(exc.paragraph or rule.paragraph)
        reason = (
            reason[:-1] + f"; the payment carries authorization {facts.authorization_text()!r}, "
            f"so it is held for review of that authorization ({citation}) instead of blocked."
        )
        return Hit(EXCEPTION, citation, "review", ev.field, ev.value, ev.matched, ev.score, reason)
    return Hit(which, citation, rule.action, ev.field, ev.value, ev.matched, ev.score, reason)


def _article(term: str) -> str:
    """'a North Korean financial institution', but 'Bank of Dandong' as it is."""
    if term[0].isupper() and not term.startswith(("Burmese", "North Korean", "Iranian")):
        return term
    return f"an {term}" if term[0] in "AEIOU" else f"a {term}"


def _possible(measure: SpecialMeasure, which: str, ev: Evidence, who: str) -> Hit:
    rule = measure.paragraphs.direct_use if which == DIRECT else measure.paragraphs.indirect_use
    citation = measure.cite(rule.paragraph)
    reason = (
        f"Possible match, too weak to act on alone: in {who}, {ev.because}; an analyst should "
        f"confirm or clear it against {citation}."
    )
    return Hit(POSSIBLE, citation, "review", ev.field, ev.value, ev.matched, ev.score, reason)


def _describe_field(path: str) -> str:
    return path.split(".", maxsplit=1)[0]


def _holder_evidence(facts: Facts, label: str, inst: Institution) -> list[Evidence]:
    """The best evidence per section that the holder is covered, one hit's worth each.

    A holder's country is its country of licence (SPEC 1.2), and evidence on a basis (b)(1)
    admits is preferred over evidence only (b)(2)'s wider definition admits.
    """
    best: dict[str, Evidence] = {}
    kind = kind_from_name(inst.name) if inst.name else None
    for found in institution_evidence(facts.rules, facts.registry, label, inst, kind):
        if not found.measure.in_force(facts.day):
            continue
        ev = found
        if ev.basis == "located_in" and ev.field.endswith(".country"):
            ev = replace(ev, basis="chartered", because=f"it is licensed in {ev.value}")
        direct = ev.basis in ev.measure.paragraphs.direct_use.bases
        old = best.get(ev.measure.section)
        old_direct = old is not None and old.basis in old.measure.paragraphs.direct_use.bases
        if old is None or (ev.strong, direct, ev.rank) > (old.strong, old_direct, old.rank):
            best[ev.measure.section] = ev
    return list(best.values())


def _direct_use(facts: Facts) -> list[Hit]:
    account = facts.account
    if account is None:
        return []
    hits: list[Hit] = []
    for label, inst in (
        ("account.holder", account.holder),
        ("account.held_on_behalf_of", account.held_on_behalf_of),
    ):
        if inst is None:
            continue
        who = "The account's holder" if label == "account.holder" else "The institution the account is held for"
        for ev in _holder_evidence(facts, label, inst):
            m = ev.measure
            if not ev.strong:
                hits.append(_possible(m, DIRECT, ev, who))
            elif ev.basis in m.paragraphs.direct_use.bases:
                hits.append(_acting(m, DIRECT, ev, facts, who))
            else:
                # Covered by the section's wider definition only (1010.659: a subsidiary of a North
                # Korean bank is a North Korean financial institution, not a banking institution),
                # so every transaction through its account involves it: (b)(2).
                hits.append(_acting(m, INDIRECT, ev, facts, who))
    return hits


def _same_institution(a: Institution, b: Institution) -> bool:
    """By BIC when both have one; else by name, and never across two different countries (a
    head office and its branch elsewhere share a name, not a location)."""
    ab, bb = try_parse_bic(a.bic), try_parse_bic(b.bic)
    if ab is not None and bb is not None:
        return ab.institution_key == bb.institution_key
    if a.country and b.country and a.country != b.country:
        return False
    return bool(a.name and b.name and normalize_name(a.name) == normalize_name(b.name))


def _indirect_use(facts: Facts) -> tuple[list[Hit], set[str]]:
    """Hits for the payment's own fields, and the sections whose use it shows (for notices)."""
    rules, registry, payment = facts.rules, facts.registry, facts.payment
    evidence: list[Evidence] = []
    for path, inst in payment.institutions():
        kind = kind_from_name(inst.name) if inst.name else None
        evidence.extend(institution_evidence(rules, registry, path, inst, kind))
    for path, party in payment.parties():
        evidence.extend(party_evidence(rules, registry, institution_role(payment, path), path, party))
    for field, lines in payment.free_text():
        if lines:
            evidence.extend(text_evidence(rules, registry, field, lines))
    hits: list[Hit] = []
    shown: set[str] = set()
    for ev in _best(evidence, facts).values():
        who = _describe_field(ev.field)
        if ev.strong:
            hit = _acting(ev.measure, INDIRECT, ev, facts, who)
            hits.append(hit)
            if hit.action == "block":
                shown.add(ev.measure.section)
        else:
            hits.append(_possible(ev.measure, INDIRECT, ev, who))
    return hits, shown


def _nested(facts: Facts) -> tuple[list[Hit], set[str]]:
    """Covered institutions the registry says use the account through its holder."""
    account = facts.account
    if account is None:
        return [], set()
    hits: list[Hit] = []
    shown: set[str] = set()
    payment_insts = [inst for _, inst in facts.payment.institutions()]
    for i, nested in enumerate(account.nested_institutions):
        path = f"account.nested_institutions[{i}]"
        acting = any(_same_institution(nested, inst) for inst in payment_insts)
        kind = kind_from_name(nested.name) if nested.name else None
        for ev in _best(institution_evidence(facts.rules, facts.registry, path, nested, kind), facts).values():
            if not ev.strong:
                continue
            m = ev.measure
            shown.add(m.section)
            if acting:
                hits.append(
                    _acting(
                        m,
                        INDIRECT,
                        ev,
                        facts,
                        f"Nested institution {nested.name or nested.bic}, acting in this payment,",
                    )
                )
                continue
            rule = m.paragraphs.investigate
            citation = m.cite(rule.paragraph)
            hits.append(
                Hit(
                    INDIRECT,
                    citation,
                    rule.action,
                    ev.field,
                    ev.value,
                    ev.matched,
                    ev.score,
                    f"The registry lists {nested.name or nested.bic} as a nested user of this account and it is "
                    f"{_article(m.covered.term)} ({ev.because}); the payment does not name it, but {citation} requires "
                    f"investigating and preventing that access.",
                )
            )
    return hits, shown


def special_measure_hits(facts: Facts) -> tuple[list[Hit], list[NoticeDue]]:
    """All special-measure hits for a payment, and the notices it makes due."""
    direct = _direct_use(facts)
    indirect, shown = _indirect_use(facts)
    nested, nested_shown = _nested(facts)
    notices: list[NoticeDue] = []
    if facts.account is not None:
        for m in facts.rules.measures:
            notice = m.paragraphs.notice
            if notice is None or m.section not in (shown | nested_shown):
                continue
            notices.append(NoticeDue(facts.account.account_id, m.section, m.cite(notice.paragraph), notice.text))
    return direct + indirect + nested, notices
