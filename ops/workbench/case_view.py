"""What a case shows, on the pages and in the API alike: its summary in the queue, and its detail
(the hits with the regulation paragraph and the list entry each cites, the payment as held, the
registry's records of the account and of the institutions the hits name, the history).

Decisions come from topics: a hit's text may be anything, of any length. Everything shown is made
text here and bounded; escaping is the templates' (autoescape) and the JSON encoder's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ops.workbench.context import RegistryLookup, WorkbenchContext
from ops.workbench.listed_entries import MAX_LISTED_ITEMS
from ops.workbench.store import CaseRow
from rules.bic import Bic, bic_words, try_parse_bic

MAX_SHOWN_CHARS = 2_000
MAX_FIELDS = 400
# Institutions a case's hits name (a BIC as a hit's value or matched entry, or in its reason: "the
# registry's record PLBKCNSHXXX"), looked up in the registry: at most this many per case, found
# by parsing at most MAX_BIC_WORDS words of BIC shape, in at most MAX_BIC_TEXT characters of each
# field, so a hit's text full of such words costs little.
MAX_INSTITUTIONS = 20
MAX_BIC_WORDS = 200
MAX_BIC_TEXT = 10_000
MAX_CHILDREN_SHOWN = 40
# Rules whose hits cite a sanctions list entry (rules/checks/blocked_persons.py), and the citation
# of an entity blocked under OFAC's 50 Percent Rule, which names no entry: its matched name does.
LISTED_RULES = frozenset({"blocked_person", "possible_match"})
FIFTY_PERCENT_CITATION = "OFAC 50 Percent Rule"


def text(value: Any, limit: int = MAX_SHOWN_CHARS) -> str:
    shown = "" if value is None else str(value)
    return shown if len(shown) <= limit else shown[:limit] + " …(cut)"


def age_text(seconds: float) -> str:
    """A held payment's age as people say it: 2 d 4 h, 3 h 12 min, 45 min."""
    whole = int(max(0.0, seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under 1 min"


def age_seconds(screened_at: str, now: datetime) -> float:
    try:
        then = datetime.fromisoformat(screened_at)
    except ValueError:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


def _hits(row: CaseRow) -> list[Mapping[str, Any]]:
    hits = row.decision.get("hits")
    return [h for h in hits if isinstance(h, Mapping)] if isinstance(hits, list) else []


def holding(row: CaseRow) -> list[dict[str, str]]:
    """The (rule, citation) of each hit that holds the payment (not `info`), once each."""
    seen: dict[tuple[str, str], None] = {}
    for hit in _hits(row):
        if hit.get("action") != "info":
            seen[text(hit.get("rule"), 200), text(hit.get("citation"), 200)] = None
    return [{"rule": rule, "citation": citation} for rule, citation in seen]


def case_summary(row: CaseRow, now: datetime) -> dict[str, Any]:
    age = age_seconds(row.screened_at, now)
    pending = row.pending
    return {
        "case_id": row.case_id,
        "payment_id": row.payment_id,
        "state": row.state.value,
        "severity": row.severity,
        "account_id": row.account_id,
        "screened_at": row.screened_at,
        "opened_at": row.opened_at,
        "updated_at": row.updated_at,
        "age_seconds": round(age),
        "age": age_text(age),
        "four_eyes": list(row.four_eyes),
        "pending": None
        if pending is None
        else {"disposition_id": pending.disposition_id, "actor": pending.actor, "reason": pending.reason},
        "holding": holding(row),
    }


def _regulation(ctx: WorkbenchContext, citation: str) -> dict[str, Any] | None:
    cited = ctx.cited_text(citation)
    if cited is None:
        return None
    return {
        "citation": cited.citation,
        "section": cited.section,
        "heading": cited.heading,
        "found": cited.found,
        "path": [{"label": label, "text": body} for label, body in cited.path],
        # The cited paragraph's sub-paragraphs ("(d)(1)", "(d)(2)" of 1010.670(d)), in order.
        "children": [{"label": label, "text": body} for label, body in cited.children[:MAX_CHILDREN_SHOWN]],
        "more_children": cited.more_children + max(0, len(cited.children) - MAX_CHILDREN_SHOWN),
    }


def _listed_entry(ctx: WorkbenchContext, hit: Mapping[str, Any], citation: str) -> dict[str, Any] | None:
    """The sanctions list entry a hit cites (ctx.listed_entry), by its citation or, for an entity
    blocked under the 50 Percent Rule, by its matched name."""
    found = ctx.listed_entry(citation)
    if found is None and citation.startswith(FIFTY_PERCENT_CITATION) and hit.get("rule") in LISTED_RULES:
        matched = hit.get("matched")
        if isinstance(matched, str) and matched.strip():
            found = ctx.listed_entry(text(matched, 500))
    return _entry_view(found) if isinstance(found, Mapping) else None


# An entry's lists are shown to MAX_LISTED_ITEMS items, the bound ListedEntries.lookup keeps (counting
# what it cuts in `more`): a lookup another context gives is cut to the same length here.
def _texts(value: Any, limit: int = MAX_LISTED_ITEMS) -> list[str]:
    return [text(v, 500) for v in value[:limit]] if isinstance(value, list | tuple) else []


def _entry_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A listed entry's display fields, each made text and bounded, every key present (the page's
    template reads them all): id, list, name, type, aliases, countries, programs, authority,
    remarks, bics, source, owners (id, name, list) and `more` (how many a cut list left out)."""
    owners = entry.get("owners")
    more = entry.get("more")
    return {
        **{key: text(entry.get(key), 500) for key in ("id", "list", "name", "type", "authority", "source")},
        "remarks": text(entry.get("remarks")),
        **{key: _texts(entry.get(key)) for key in ("aliases", "countries", "programs", "bics")},
        "owners": [
            {key: text(o.get(key), 500) for key in ("id", "name", "list")}
            for o in (owners[:MAX_LISTED_ITEMS] if isinstance(owners, list | tuple) else [])
            if isinstance(o, Mapping)
        ],
        "more": {
            text(k, 40): n
            for k, n in (list(more.items())[:10] if isinstance(more, Mapping) else [])
            if isinstance(n, int) and not isinstance(n, bool) and n > 0
        },
    }


def hit_view(ctx: WorkbenchContext, hit: Mapping[str, Any]) -> dict[str, Any]:
    citation = text(hit.get("citation"), 200)
    score = hit.get("score")
    return {
        "rule": text(hit.get("rule"), 200),
        "citation": citation,
        "action": text(hit.get("action"), 20),
        "field": text(hit.get("field"), 500),
        "value": text(hit.get("value")),
        "matched": text(hit.get("matched")),
        "score": float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        "reason": text(hit.get("reason")),
        "regulation": _regulation(ctx, citation),
        "listed_entry": _listed_entry(ctx, hit, citation),
    }


def _record(lookup: RegistryLookup, key: str) -> dict[str, Any] | None:
    found = lookup(key) if key else None
    return dict(found) if isinstance(found, Mapping) else None


def named_bics(hits: list[Mapping[str, Any]]) -> list[Bic]:
    """The valid BICs a case's hits name, each institution once (by its 11-character form), in the
    hits' order: a value or matched entry that is a BIC ("phntkyky" too), and every word of BIC shape
    in a hit's value, matched entry and reason. Bounded (MAX_INSTITUTIONS, MAX_BIC_WORDS)."""
    found: dict[str, Bic] = {}
    tries = 0
    for hit in hits:
        for key in ("value", "matched", "reason"):
            value = hit.get(key)
            if not isinstance(value, str) or not value:
                continue
            whole = try_parse_bic(value) if key != "reason" and len(value) <= 20 else None
            words = [] if whole is not None else bic_words(value[:MAX_BIC_TEXT])
            for bic in [whole] if whole is not None else (try_parse_bic(w) for w in words):
                tries += 1
                if bic is not None:
                    found.setdefault(bic.bic11, bic)
                if len(found) >= MAX_INSTITUTIONS or tries >= MAX_BIC_WORDS:
                    return list(found.values())
    return list(found.values())


def institution_records(lookup: RegistryLookup, bics: list[Bic]) -> list[dict[str, Any]]:
    """The registry's record of each BIC it has, tried as written, in its 11-character form and in its
    8-character form (the registry keys institutions by the 11-character form and resolves a branch
    to its primary office: rules/registry.py institution_by_bic)."""
    out: list[dict[str, Any]] = []
    for bic in bics:
        for key in dict.fromkeys((bic.value, bic.bic11, bic.bic8 + "XXX", bic.bic8)):
            record = _record(lookup, key)
            if record is not None:
                out.append({"bic": bic.value, "record": record})
                break
    return out


def case_detail(ctx: WorkbenchContext, row: CaseRow) -> dict[str, Any]:
    """Everything an investigator (or an examiner, later) sees of a case."""
    hits = _hits(row)
    institutions = institution_records(ctx.institution_record, named_bics(hits))
    stored = ctx.store.payment(row.payment_id)
    payment: Mapping[str, Any] | str | None = None
    if stored is not None:
        payment = ctx.payment_view(stored[0])
    decision = row.decision
    return {
        "case": case_summary(row, ctx.clock()),
        "decision": {
            "payment_id": text(decision.get("payment_id"), 200),
            "decision": text(decision.get("decision"), 20),
            "screened_at": text(decision.get("screened_at"), 60),
            "rules_version": text(decision.get("rules_version"), 200),
            "registry_version": text(decision.get("registry_version"), 200),
            "citations": [text(c, 200) for c in decision.get("citations") or [] if isinstance(c, str)][:100],
            "notices": [text(n) for n in decision.get("notices") or []][:100],
            "digest": row.decision_digest,
            "source": row.source,
        },
        "hits": [hit_view(ctx, hit) for hit in hits[:200]],
        "payment": dict(payment) if isinstance(payment, Mapping) else None,
        "payment_error": payment if isinstance(payment, str) else ("payment not available" if payment is None else ""),
        "registry": {"account": _record(ctx.account_record, row.account_id), "institutions": institutions},
        "history": ctx.store.history(row.case_id),
        "release": ctx.store.release(row.case_id),
    }


def fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested record as (path, value) rows: `account.nested_institutions[0].shell_bank`."""
    rows: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack and len(rows) < MAX_FIELDS:
        path, item = stack.pop()
        if isinstance(item, Mapping) and item:
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list | tuple) and item:
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, bool):
            rows.append((path, "true" if item else "false"))
        else:
            rows.append((path, text(item) if item not in (None, {}, []) else ""))
    return rows
